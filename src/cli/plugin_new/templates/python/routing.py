"""{{name}}: a Switchyard routing policy, from `switchyard plugin new`.

Delivers every message on its own subject.

Config (the tenant file's `config` table): `subjects`, comma-separated
subjects to register (default `{{name}}.>`).

Never print: stdout and stderr trap in the broker. Log with `log.info(...)`.
"""

from switchyard_plugin import ALLOW, Decision, Registration, export_routing


class {{type}}:
    def register(self):
        # Add `.with_headers()` to see headers, `.with_payload()` to be
        # allowed to fetch payloads with `req.payload`.
        return Registration.from_config("subjects", ["{{name}}.>"])

    def route(self, req):
        # Examples:
        #
        # Send it elsewhere inside the tenant (headers need `.with_headers()`):
        #     if req.headers.get("Priority") == "high":
        #         return Decision.reroute("{{name}}.priority")
        # Deliver it and a copy:
        #     return Decision.fan_out(["audit.{{name}}"])
        # Refuse it (a requester gets status 403 with the reason):
        #     if req.payload_size > 64 * 1024: return Decision.deny("too big")
        return ALLOW


# componentize-py looks for this name.
Router = export_routing({{type}})
