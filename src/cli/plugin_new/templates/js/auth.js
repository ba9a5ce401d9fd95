// {{name}}: a Switchyard auth plugin, from `switchyard plugin new`.
//
// Lets in a client that presents the configured token, as user `user` of
// tenant `tenant`, with every subject allowed; refuses anyone else. A real
// plugin stores hashes of its secrets, not the secrets (see
// plugins/api_key_auth in the Switchyard repository).
//
// Config (the server file's `[[auth_plugins]]` `config` table): `token` and
// `tenant` (required), `user` (default `{{name}}`).
//
// Never use console.log: stdout and stderr trap in the broker.

import { Denied, Permissions, config, exportAuth, grant } from "@switchyard/plugin/auth";

// The build looks for this export name.
export const authenticator = exportAuth({
  authenticate(req) {
    const expected = config.get("token");
    const tenant = config.get("tenant");
    if (expected === undefined || tenant === undefined) {
      throw new Denied("config `token` and `tenant` are required");
    }
    // The reason goes to the broker's log; the client only ever sees
    // 'Authorization Violation'.
    if (req.token == null) throw new Denied("no token");
    if (req.token !== expected) throw new Denied("wrong token");
    const g = grant(tenant, config.get("user") ?? "{{name}}");
    // Narrow what the client may do, e.g.:
    //     g.publish = Permissions.only(["{{name}}.>"]);
    g.publish = Permissions.all();
    return g;
  },
});
