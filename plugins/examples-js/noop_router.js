// noop_router in JavaScript: the same plugin as plugins/noop_router (Rust),
// the baseline for comparing per-message routing costs across languages.
//
// Allows every message without looking at it. Config: `subjects`
// (comma-separated, default `>`); `headers` (`true` to have the broker pass
// the header block, default `false`).

import { Decision, Registration, config, exportRouting } from "@switchyard/plugin/routing";

export const router = exportRouting({
  register() {
    const r = Registration.fromConfig("subjects", [">"]);
    if (config.get("headers") === "true") r.withHeaders();
    return r;
  },
  route() {
    return Decision.allow;
  },
});
