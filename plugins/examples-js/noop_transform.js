// noop_transform in JavaScript: the same plugin as plugins/noop_transform
// (Rust), the baseline for comparing per-message costs across languages.
//
// Passes every message and returns no verdicts. Config: `subjects`
// (comma-separated, default `>`); `headers` and `payload` (`true` to have
// the broker copy them in, default `false`).

import { Action, Registration, config, exportTransform } from "@switchyard/plugin/transform";

export const transformer = exportTransform({
  register() {
    const r = Registration.fromConfig("subjects", [">"]);
    if (config.get("headers") === "true") r.withHeaders();
    if (config.get("payload") === "true") r.withPayload();
    return r;
  },
  transform() {
    return Action.pass;
  },
});
