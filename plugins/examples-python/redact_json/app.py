"""redact_json in Python: the same plugin as plugins/redact_json (Rust).

Replaces the values of configured fields in JSON payloads with a marker,
keeping key order. Config (all optional): `fields` (dotted paths, default
`password`; an array on the path applies the rest to each element),
`subjects` (default `>`), `non_json` (`pass`, `drop` or `reject`),
`replacement` (default `[REDACTED]`). A payload with nothing to redact
passes unchanged; with `non_json = "pass"` a payload in which no field name
occurs (and no backslash) is not even parsed.
"""

import json

from switchyard_plugin import PASS, Action, Registration, config, export_transform, log


def _no_constants(name):
    # NaN and Infinity are not JSON (serde_json refuses them too).
    raise ValueError(f"{name} is not JSON")


def _parse(payload: bytes):
    return json.loads(payload.decode("utf-8"), parse_constant=_no_constants)


def _dump(doc) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def load_config():
    fields = config.list_("fields")
    if fields is None:
        fields = ["password"]
    paths = []
    for f in fields:
        segments = f.split(".")
        if any(s == "" for s in segments):
            raise ValueError(f"config `fields`: bad path `{f}`")
        paths.append(segments)
    non_json = config.get("non_json") or "pass"
    if non_json not in ("pass", "drop", "reject"):
        raise ValueError(f"config `non_json`: `{non_json}` is not one of pass, drop, reject")
    replacement = config.get("replacement")
    return paths, non_json, "[REDACTED]" if replacement is None else replacement


def may_contain(payload: bytes, paths) -> bool:
    """Without a backslash a JSON key is spelled literally, so the last
    segment of some path must occur in the payload for a redaction."""
    return b"\\" in payload or any(p[-1].encode() in payload for p in paths)


def redact_path(value, path, replacement) -> bool:
    if isinstance(value, list):
        changed = False
        for item in value:
            changed |= redact_path(item, path, replacement)
        return changed
    if isinstance(value, dict) and path[0] in value:
        if len(path) == 1:
            value[path[0]] = replacement
            return True
        return redact_path(value[path[0]], path[1:], replacement)
    return False


class RedactJson:
    def __init__(self):
        self._config = None

    def settings(self):
        # Once per instance: `register` may have run in another instance.
        if self._config is None:
            self._config = load_config()
        return self._config

    def register(self):
        try:
            load_config()
        except ValueError as e:
            # Refuse to load rather than redact the wrong fields.
            log.error(str(e))
            raise
        return Registration.from_config("subjects", [">"]).with_payload()

    def transform(self, msg):
        try:
            paths, non_json, replacement = self.settings()
        except ValueError as e:
            return Action.reject(f"redact_json: {e}")
        payload = msg.payload
        if not may_contain(payload, paths):
            if non_json == "pass":
                return PASS
            try:
                _parse(payload)
                return PASS
            except ValueError:
                return self.not_json(non_json)
        try:
            doc = _parse(payload)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError included
            return self.not_json(non_json)
        changed = False
        for path in paths:
            changed |= redact_path(doc, path, replacement)
        return Action.with_payload(_dump(doc)) if changed else PASS

    @staticmethod
    def not_json(policy):
        if policy == "drop":
            return Action.drop()
        if policy == "reject":
            return Action.reject("payload is not JSON")
        return PASS


Transformer = export_transform(RedactJson)
