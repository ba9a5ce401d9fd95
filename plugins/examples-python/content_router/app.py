"""content_router in Python: the same plugin as plugins/content_router (Rust).

Reroutes each message to a subject built from a value it carries: a header
(`header`, matched ignoring ASCII case) or a JSON payload field (`field`, a
dotted path), put into `target` at `{value}`. `subjects` and `target` are
required; `default` is the subject for messages without the value (without
it they are delivered unchanged). A value that is not a single subject
token is denied, so a publisher cannot steer a message outside the
template.
"""

import json

from switchyard_plugin import ALLOW, Decision, Registration, config, export_routing, log


def load_settings():
    subjects = config.list_("subjects") or []
    if not subjects:
        raise ValueError("config `subjects` is required")
    header, field = config.get("header"), config.get("field")
    if header is not None and field is None and header.strip():
        source = ("header", header.strip())
    elif header is None and field is not None:
        path = field.strip().split(".")
        if any(s == "" for s in path):
            raise ValueError(f"config `field`: bad path `{field}`")
        source = ("field", path)
    else:
        raise ValueError("config: set exactly one of `header` and `field`")
    target = config.get("target")
    if target is None:
        raise ValueError("config `target` is required")
    if "{value}" not in target:
        raise ValueError(f"config `target`: `{target}` has no `{{value}}`")
    return subjects, source, target, config.get("default")


def json_field(payload: bytes, path):
    """The scalar at `path`, as text; `None` when absent, not a scalar or
    not JSON."""
    try:
        v = json.loads(payload.decode("utf-8"))
    except ValueError:
        return None
    for key in path:
        if not isinstance(v, dict) or key not in v:
            return None
        v = v[key]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return str(v)
    return None


def is_token(v: str) -> bool:
    """One literal subject token: no separators, wildcards, whitespace or
    control characters."""
    return bool(v) and not any(
        c in ".*>" or c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in v
    )


class ContentRouter:
    def __init__(self):
        self._settings = None

    def register(self):
        try:
            subjects, source, _, _ = load_settings()
        except ValueError as e:
            log.error(str(e))
            raise
        r = Registration.of(subjects)
        return r.with_headers() if source[0] == "header" else r.with_payload()

    def route(self, req):
        try:
            if self._settings is None:
                self._settings = load_settings()
        except ValueError as e:
            return Decision.deny(f"content_router: {e}")
        _, (kind, key), target, default = self._settings
        if kind == "header":
            found = req.headers.get_ignore_case(key)
        elif req.payload_size > 0:
            # The payload is fetched only here, and only when there is one.
            found = json_field(req.payload, key)
        else:
            found = None
        if found is None:
            return ALLOW if default is None else Decision.reroute(default)
        if not is_token(found):
            return Decision.deny(f"content_router: `{found}` is not a subject token")
        return Decision.reroute(target.replace("{value}", found))


Router = export_routing(ContentRouter)
