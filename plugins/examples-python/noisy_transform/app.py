"""noisy_transform in Python: a plugin author's diagnostics, as the broker
logs them (no Rust twin: what it shows is Python's).

Passes every message after printing `noisy <subject> <payload>` with
`print` (stdout: the broker logs it under `[plugin_output]`). A message
whose payload is `raise` raises `ValueError` out of `transform`: the SDK
writes the traceback to stderr (logged too) and the call fails, so the
plugin's failure policy decides the message. Config: `subjects`
(comma-separated, default `noisy.>`).
"""

from switchyard_plugin import PASS, Registration, export_transform


class NoisyTransform:
    def register(self):
        r = Registration.from_config("subjects", ["noisy.>"])
        r.wants_payload = True
        return r

    def transform(self, msg):
        payload = msg.payload.decode("utf-8", "replace")
        print(f"noisy {msg.subject} {payload}")
        if payload == "raise":
            explode(msg.subject)
        return PASS


def explode(subject):
    raise ValueError(f"asked to raise on {subject}")


Transformer = export_transform(NoisyTransform)
