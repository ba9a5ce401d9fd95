"""api_key_auth in Python: the same plugin as plugins/api_key_auth (Rust).

Lets in clients that present a known API key as their `token`, or as
`password` with user `apikey`. Keys are stored as the lowercase hex SHA-256
of the key: `key.<sha256> = "tenant=acme;user=svc;pub=orders.>;sub=_INBOX.>"`
(fields: tenant, user, pub, sub, pub_deny, sub_deny, expires_at_ms, ttl_ms).
"""

import hashlib

from switchyard_plugin import Denied, Grant, Permissions, clock, config, export_auth
from switchyard_plugin.config import split_list


def parse_entry(value: str):
    tenant = user = ""
    publish, subscribe = Permissions(), Permissions()
    expires_at_ms = ttl_ms = None
    for field in (f.strip() for f in value.split(";")):
        if not field:
            continue
        name, sep, v = field.partition("=")
        if not sep:
            raise ValueError(f"field `{field}` has no `=`")
        name, v = name.strip(), v.strip()
        if name == "tenant":
            tenant = v
        elif name == "user":
            user = v
        elif name == "pub":
            publish.allow = split_list(v)
        elif name == "sub":
            subscribe.allow = split_list(v)
        elif name == "pub_deny":
            publish.deny = split_list(v)
        elif name == "sub_deny":
            subscribe.deny = split_list(v)
        elif name in ("expires_at_ms", "ttl_ms"):
            if not v.isdigit():
                raise ValueError(f"`{name}` is not a whole number: `{v}`")
            if name == "ttl_ms":
                ttl_ms = int(v)
            else:
                expires_at_ms = int(v)
        else:
            raise ValueError(f"unknown field `{name}`")
    if not tenant:
        raise ValueError("`tenant` is missing")
    if not user:
        raise ValueError("`user` is missing")
    return tenant, user, publish, subscribe, expires_at_ms, ttl_ms


def presented_key(req):
    if req.token is not None:
        key = req.token
    elif req.user == "apikey" and req.password is not None:
        key = req.password
    else:
        return None
    return key or None


class ApiKeyAuth:
    def authenticate(self, req):
        key = presented_key(req)
        if key is None:
            raise Denied("no API key presented (token, or user `apikey` with the key as password)")
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        # The hash prefix identifies the key in logs without revealing it.
        short = digest[:12]
        value = config.get(f"key.{digest}")
        if value is None:
            raise Denied(f"unknown API key (sha256 {short}...)")
        try:
            tenant, user, publish, subscribe, expires, ttl = parse_entry(value)
        except ValueError as e:
            raise Denied(f"config `key.{short}...` is malformed: {e}") from None
        if ttl is not None:
            end = clock.now_ms() + ttl
            expires = end if expires is None else min(expires, end)
        return Grant(tenant, user, publish, subscribe, expires)


Authenticator = export_auth(ApiKeyAuth)
