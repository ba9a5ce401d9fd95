"""{{name}}: a Switchyard transform plugin, from `switchyard plugin new`.

Passes every message unchanged.

Config (the tenant file's `config` table): `subjects`, comma-separated
subjects to register (default `{{name}}.>`).

Never print: stdout and stderr trap in the broker. Log with `log.info(...)`.
"""

from switchyard_plugin import PASS, Action, Registration, export_transform


class {{type}}:
    def register(self):
        # Add `.with_payload()` to see payloads, `.with_headers()` to see
        # headers: the broker copies in only what is asked for.
        return Registration.from_config("subjects", ["{{name}}.>"])

    def transform(self, msg):
        # Examples (payloads need `.with_payload()` above):
        #
        # Replace the payload:
        #     return Action.with_payload(msg.payload.upper())
        # Move it to another subject:
        #     return Action.modify(subject=msg.subject + ".seen")
        # Drop it silently:
        #     if msg.subject.endswith(".noise"): return Action.drop()
        # Refuse it (a requester gets status 403 with the reason):
        #     if not msg.payload: return Action.reject("empty payload")
        return PASS


# componentize-py looks for this name.
Transformer = export_transform({{type}})
