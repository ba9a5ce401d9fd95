// {{name}}: a Switchyard transform plugin, from `switchyard plugin new`.
//
// Passes every message unchanged.
//
// Config (the tenant file's `config` table): `subjects`, comma-separated
// subjects to register (default `{{name}}.>`).
//
// Never use console.log: stdout and stderr trap in the broker. Log with
// `log.info(...)` (import `log` from the SDK).

import { Action, Registration, exportTransform } from "@switchyard/plugin/transform";

// The build looks for this export name.
export const transformer = exportTransform({
  register() {
    // Add `.withPayload()` to see payloads, `.withHeaders()` to see
    // headers: the broker copies in only what is asked for.
    return Registration.fromConfig("subjects", ["{{name}}.>"]);
  },

  transform(msg) {
    // Examples (payloads need `.withPayload()` above):
    //
    // Replace the payload:
    //     return Action.payload(msg.text.toUpperCase());
    // Move it to another subject:
    //     return Action.subject(`${msg.subject}.seen`);
    // Drop it silently:
    //     if (msg.subject.endsWith(".noise")) return Action.drop;
    // Refuse it (a requester gets status 403 with the reason):
    //     if (msg.payload.length === 0) return Action.reject("empty payload");
    return Action.pass;
  },
});
