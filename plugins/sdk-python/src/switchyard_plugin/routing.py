"""The routing world: decide where each message goes inside the tenant.

A routing call carries metadata only; the payload stays in the broker until
the plugin reads `RouteRequest.payload`, which fetches it once and keeps it
for the rest of the call.
"""

from dataclasses import dataclass

from . import _wit
from .headers import Headers


class RouteRequest:
    """One message's metadata, with lazy access to its payload."""

    __slots__ = ("_inner", "_payload")

    def __init__(self, inner, payload: bytes | None = None):
        self._inner = inner
        self._payload = payload

    @property
    def subject(self) -> str:
        return self._inner.subject

    @property
    def reply(self) -> str | None:
        return self._inner.reply

    @property
    def headers(self) -> Headers:
        """Empty unless registered `with_headers()` and present."""
        return Headers(self._inner.headers or b"")

    @property
    def payload_size(self) -> int:
        """Known without fetching the payload."""
        return self._inner.payload_size

    @property
    def payload(self) -> bytes:
        """Fetched from the broker on first use and cached for this call;
        empty unless registered `with_payload()`."""
        if self._payload is None:
            self._payload = _wit.module("imports.message_payload").payload()
        return self._payload

    @property
    def publisher(self):
        """`user`, `client_id`, `client_name`."""
        return self._inner.publisher


@dataclass
class Decision:
    """Where a message goes. Build it with the constructors below."""

    kind: str
    value: object = None

    @staticmethod
    def deny(reason: str) -> "Decision":
        """Discard it; a publisher that asked for a reply gets a 403."""
        return Decision("deny", reason)

    @staticmethod
    def reroute(subject: str) -> "Decision":
        """Deliver it on this literal subject instead."""
        return Decision("reroute", subject)

    @staticmethod
    def fan_out(subjects) -> "Decision":
        """Deliver it on its own subject and on each of these (at most 16)."""
        return Decision("fan_out", list(subjects))

    def to_wit(self):
        r = _wit.module("exports.router")
        if self.kind == "allow":
            return r.Decision_Allow()
        if self.kind == "deny":
            return r.Decision_Deny(self.value)
        if self.kind == "reroute":
            return r.Decision_Reroute(self.value)
        if self.kind == "fan_out":
            return r.Decision_FanOut(self.value)
        raise ValueError(f"unknown decision `{self.kind}`")


ALLOW = Decision("allow")
Decision.ALLOW = ALLOW


def export_routing(plugin):
    """Makes `plugin` (with `register()` and `route(req)`) the component's
    `router` export. Bind the result to the name `Router`:

        Router = export_routing(MyPolicy)
    """
    impl = plugin() if isinstance(plugin, type) else plugin

    class Router:
        def register(self):
            return impl.register().to_wit()

        def route(self, request):
            return (impl.route(RouteRequest(request)) or ALLOW).to_wit()

    return Router
