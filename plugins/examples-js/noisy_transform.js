// noisy_transform in JavaScript: a plugin author's diagnostics, as the
// broker logs them (no Rust twin: what it shows is JavaScript's).
//
// Passes every message after `console.log("noisy", subject, payload)`
// (the SDK's console writes through the host log, at info). A message
// whose payload is `raise` throws a TypeError out of `transform`: the SDK
// logs it with its stack at error and the call fails, so the plugin's
// failure policy decides the message. Config: `subjects` (comma-separated,
// default `noisy.>`).

import { Action, Registration, decode, exportTransform } from "@switchyard/plugin/transform";

function explode(subject) {
  throw new TypeError(`asked to raise on ${subject}`);
}

export const transformer = exportTransform({
  register() {
    return Registration.fromConfig("subjects", ["noisy.>"]).withPayload();
  },
  transform(msg) {
    const payload = decode(msg.payload);
    console.log("noisy", msg.subject, payload);
    if (payload === "raise") explode(msg.subject);
    return Action.pass;
  },
});
