//! {{name}}: a Switchyard auth plugin, from `switchyard plugin new`.
//!
//! Lets in a client that presents the configured token, as user `user` of
//! tenant `tenant`, with every subject allowed; refuses anyone else. A real
//! plugin stores hashes of its secrets, not the secrets (see
//! `plugins/api_key_auth` in the Switchyard repository).
//!
//! Config (the server file's `[[auth_plugins]]` `config` table): `token`
//! and `tenant` (required), `user` (default `{{name}}`).

use switchyard_plugin::{Authenticate, ConnectRequest, Grant, Permissions, config};

struct {{type}};

impl Authenticate for {{type}} {
    fn authenticate(req: &ConnectRequest) -> Result<Grant, String> {
        let expected = config::get("token").ok_or("config `token` is required")?;
        let tenant = config::get("tenant").ok_or("config `tenant` is required")?;
        let user = config::get("user").unwrap_or_else(|| "{{name}}".to_string());
        match req.token.as_deref() {
            Some(token) if token == expected => {
                let mut grant = Grant::new(tenant, user);
                // Narrow what the client may do, e.g.:
                //     grant.publish = Permissions::only(["{{name}}.>"]);
                grant.publish = Permissions::all();
                Ok(grant)
            }
            // The reason goes to the broker's log; the client only ever
            // sees 'Authorization Violation'.
            Some(_) => Err("wrong token".to_string()),
            None => Err("no token".to_string()),
        }
    }
}

switchyard_plugin::export_auth!({{type}});
