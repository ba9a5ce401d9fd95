"""The routing world: decide where each message goes inside the tenant.

The broker calls `route-batch` with up to 256 messages' metadata laid out as
byte ranges of one buffer, and the publisher once. `export_routing` walks
that batch, hands the plugin's `route` one `RouteRequest` at a time, in
publish order, and returns verdicts only for messages that are not simply
allowed: a policy that allows everything answers with an empty list, the
cheapest reply. A message's payload stays in the broker until the plugin
reads `RouteRequest.payload`, which fetches it by the message's index once
and keeps it.
"""

from dataclasses import dataclass

from . import _wit
from ._report import reported
from ._view import MessageView


class RouteRequest(MessageView):
    """One message's metadata, with lazy access to its payload."""

    __slots__ = ("_publisher", "_fetch", "_payload")

    def __init__(self, data: bytes, ref, index: int, publisher, fetch):
        super().__init__(data, ref, index)
        self._publisher = publisher
        self._fetch = fetch
        self._payload = None

    @property
    def payload_size(self) -> int:
        """Known without fetching the payload."""
        return self._ref.payload_size

    @property
    def payload(self) -> bytes:
        """Fetched from the broker on first use and cached for this message;
        empty unless registered `with_payload()`."""
        if self._payload is None:
            self._payload = self._fetch(self.index)
        return self._payload

    @property
    def publisher(self):
        """`user`, `client_id`, `client_name`: the same for every message of
        a batch."""
        return self._publisher


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


def walk_route_batch(data: bytes, refs, publisher, fetch, decide) -> list[tuple[int, Decision]]:
    """Runs `decide` on every message, fetching payloads with
    `fetch(index)`, and returns `(index, decision)` for those not allowed.
    Public for tests."""
    verdicts = []
    for index, ref in enumerate(refs):
        decision = decide(RouteRequest(data, ref, index, publisher, fetch))
        if decision is not None and decision.kind != "allow":
            verdicts.append((index, decision))
    return verdicts


def _fetch_payload(index: int) -> bytes:
    return _wit.module("imports.message_payload").payload(index)


def export_routing(plugin):
    """Makes `plugin` (with `register()` and `route(req)`) the component's
    `router` export. Bind the result to the name `Router`:

        Router = export_routing(MyPolicy)
    """
    impl = plugin() if isinstance(plugin, type) else plugin

    class Router:
        def register(self):
            return reported(lambda: impl.register().to_wit())

        def route_batch(self, batch):
            r = _wit.module("exports.router")
            return reported(
                lambda: [
                    r.RouteVerdict(index, decision.to_wit())
                    for index, decision in walk_route_batch(
                        batch.data, batch.messages, batch.publisher, _fetch_payload, impl.route
                    )
                ]
            )

    return Router
