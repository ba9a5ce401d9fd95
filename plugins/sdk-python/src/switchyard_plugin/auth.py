"""The auth world: decide once, on CONNECT, who a client is.

The grant binds the client to a tenant with permissions that the broker
then enforces natively. Auth plugins import `host` only: the `kv` helpers
are not available to them.
"""

from dataclasses import dataclass, field

from . import _wit


class Denied(Exception):
    """Raise it from `authenticate` to refuse a client. The reason is logged
    by the broker; the client only sees 'Authorization Violation'."""


@dataclass
class Permissions:
    """An empty `allow` allows every subject (minus `deny`); deny wins."""

    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)

    @classmethod
    def all(cls) -> "Permissions":
        return cls()

    @classmethod
    def only(cls, subjects) -> "Permissions":
        return cls(list(subjects))


@dataclass
class Grant:
    """Who the client is once let in; `expires_at_ms` ends the connection."""

    tenant: str
    user: str
    publish: Permissions = field(default_factory=Permissions)
    subscribe: Permissions = field(default_factory=Permissions)
    expires_at_ms: int | None = None

    def to_wit(self):
        a = _wit.module("exports.authenticator")
        return a.Grant(
            self.tenant,
            self.user,
            a.Permissions(list(self.publish.allow), list(self.publish.deny)),
            a.Permissions(list(self.subscribe.allow), list(self.subscribe.deny)),
            self.expires_at_ms,
        )


def export_auth(plugin):
    """Makes `plugin` (with `authenticate(req) -> Grant`, raising `Denied`)
    the component's `authenticator` export. Bind the result to the name
    `Authenticator`:

        Authenticator = export_auth(MyAuth)

    `req` has the WIT record's fields: `user`, `password`, `token`, `jwt`,
    `nkey`, `nkey_verified`, `client_name`, `client_lang`,
    `client_version`, `remote_addr`, `tls_peer`.
    """
    impl = plugin() if isinstance(plugin, type) else plugin

    class Authenticator:
        def authenticate(self, request):
            from componentize_py_types import Err

            try:
                grant = impl.authenticate(request)
            except Denied as e:
                raise Err(str(e)) from None
            return grant.to_wit()

    return Authenticator
