"""noop_router in Python: the same plugin as plugins/noop_router (Rust), the
baseline for comparing per-message routing costs across languages.

Allows every message without looking at it. Config: `subjects`
(comma-separated, default `>`); `headers` (`true` to have the broker pass
the header block, default `false`).
"""

from switchyard_plugin import ALLOW, Registration, config, export_routing


class NoopRouter:
    def register(self):
        r = Registration.from_config("subjects", [">"])
        r.wants_headers = config.get("headers") == "true"
        return r

    def route(self, req):
        return ALLOW


Router = export_routing(NoopRouter)
