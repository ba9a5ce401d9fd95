"""noop_transform in Python: the same plugin as plugins/noop_transform (Rust),
the baseline for comparing per-message costs across languages.

Passes every message and returns no verdicts. Config: `subjects`
(comma-separated, default `>`); `headers` and `payload` (`true` to have the
broker copy them in, default `false`).
"""

from switchyard_plugin import PASS, Registration, config, export_transform


class NoopTransform:
    def register(self):
        r = Registration.from_config("subjects", [">"])
        r.wants_headers = config.get("headers") == "true"
        r.wants_payload = config.get("payload") == "true"
        return r

    def transform(self, msg):
        return PASS


Transformer = export_transform(NoopTransform)
