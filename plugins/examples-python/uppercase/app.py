"""uppercase in Python: the same plugin as plugins/uppercase (Rust).

Uppercases every payload (ASCII), so it returns a new payload for nearly
every message: the test that a Python transform's returned payloads are
freed after each call. Config: `subjects` (comma-separated, default `>`).
A payload with no lowercase ASCII letter passes unchanged.
"""

from switchyard_plugin import PASS, Action, Registration, export_transform


class Uppercase:
    def register(self):
        return Registration.from_config("subjects", [">"]).with_payload()

    def transform(self, msg):
        payload = msg.payload
        upper = payload.upper()  # bytes.upper() changes ASCII letters only
        return PASS if upper == payload else Action.with_payload(upper)


Transformer = export_transform(Uppercase)
