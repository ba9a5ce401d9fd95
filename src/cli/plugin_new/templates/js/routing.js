// {{name}}: a Switchyard routing policy, from `switchyard plugin new`.
//
// Delivers every message on its own subject.
//
// Config (the tenant file's `config` table): `subjects`, comma-separated
// subjects to register (default `{{name}}.>`).
//
// Never use console.log: stdout and stderr trap in the broker. Log with
// `log.info(...)` (import `log` from the SDK).

import { Decision, Registration, exportRouting } from "@switchyard/plugin/routing";

// The build looks for this export name.
export const router = exportRouting({
  register() {
    // Add `.withHeaders()` to see headers, `.withPayload()` to be allowed
    // to fetch payloads with `req.payload`.
    return Registration.fromConfig("subjects", ["{{name}}.>"]);
  },

  route(req) {
    // Examples:
    //
    // Send it elsewhere inside the tenant (headers need `.withHeaders()`):
    //     if (req.headers.get("Priority") === "high") return Decision.reroute("{{name}}.priority");
    // Deliver it and a copy:
    //     return Decision.fanOut(["audit.{{name}}"]);
    // Refuse it (a requester gets status 403 with the reason):
    //     if (req.payloadSize > 64 * 1024) return Decision.deny("too big");
    return Decision.allow;
  },
});
