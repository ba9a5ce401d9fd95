"""{{name}}: a Switchyard auth plugin, from `switchyard plugin new`.

Lets in a client that presents the configured token, as user `user` of
tenant `tenant`, with every subject allowed; refuses anyone else. A real
plugin stores hashes of its secrets, not the secrets (see
plugins/examples-python/api_key_auth in the Switchyard repository).

Config (the server file's `[[auth_plugins]]` `config` table): `token` and
`tenant` (required), `user` (default `{{name}}`).

Never print: stdout and stderr trap in the broker. Log with `log.info(...)`.
"""

from switchyard_plugin import Denied, Grant, Permissions, config, export_auth


class {{type}}:
    def authenticate(self, req):
        expected, tenant = config.get("token"), config.get("tenant")
        if expected is None or tenant is None:
            raise Denied("config `token` and `tenant` are required")
        user = config.get("user") or "{{name}}"
        if req.token is None:
            # The reason goes to the broker's log; the client only ever
            # sees 'Authorization Violation'.
            raise Denied("no token")
        if req.token != expected:
            raise Denied("wrong token")
        # Narrow what the client may do, e.g.:
        #     return Grant(tenant, user, publish=Permissions(allow=["{{name}}.>"]))
        return Grant(tenant, user, publish=Permissions.all())


# componentize-py looks for this name.
Authenticator = export_auth({{type}})
