"""The transform world, one message at a time.

The broker calls `transform-batch` with up to 256 messages laid out as byte
ranges of one buffer. `export_transform` walks that batch, hands the
plugin's `transform` one `Message` at a time, and returns verdicts only for
messages that do not simply pass, so a plugin that passes everything
answers with an empty list, the cheapest reply.
"""

from dataclasses import dataclass, field

from . import _wit
from ._report import reported
from ._view import MessageView
from .headers import Header


class Message(MessageView):
    """One published message, as views into the batch buffer."""

    __slots__ = ()

    @property
    def payload(self) -> bytes:
        """Empty unless registered `with_payload()`."""
        return self._bytes(self._ref.payload)


@dataclass
class OutMessage:
    """A message the plugin produces in a split."""

    subject: str
    payload: bytes = b""
    reply: str | None = None
    headers: list[Header] = field(default_factory=list)


@dataclass
class Action:
    """What happens to one message. Build it with the constructors below;
    `PASS` is the cheap default."""

    kind: str
    reason: str | None = None
    subject: str | None = None
    headers: list[Header] | None = None
    payload: bytes | None = None
    messages: list[OutMessage] | None = None

    @staticmethod
    def drop() -> "Action":
        return DROP

    @staticmethod
    def reject(reason: str) -> "Action":
        """Discard it; a publisher that asked for a reply gets a 403."""
        return Action("reject", reason=reason)

    @staticmethod
    def modify(subject=None, headers=None, payload=None) -> "Action":
        """Replace the parts that are not `None`; `headers=[]` removes all."""
        return Action("modify", subject=subject, headers=headers, payload=payload)

    @staticmethod
    def with_payload(payload: bytes) -> "Action":
        return Action("modify", payload=payload)

    @staticmethod
    def split(messages) -> "Action":
        """Deliver these messages instead, in order (at most 16)."""
        return Action("split", messages=list(messages))

    def to_wit(self):
        t = _wit.module("exports.transformer")
        if self.kind == "pass":
            return t.Action_Pass()
        if self.kind == "drop":
            return t.Action_Drop()
        if self.kind == "reject":
            return t.Action_Reject(self.reason or "")
        if self.kind == "modify":
            headers = None if self.headers is None else _wit_headers(self.headers)
            payload = None if self.payload is None else bytes(self.payload)
            return t.Action_Modify(t.Edit(self.subject, headers, payload))
        if self.kind == "split":
            return t.Action_Split(
                [
                    t.Message(m.subject, m.reply, _wit_headers(m.headers), bytes(m.payload))
                    for m in self.messages or []
                ]
            )
        raise ValueError(f"unknown action `{self.kind}`")


PASS = Action("pass")
DROP = Action("drop")
Action.PASS = PASS


def _wit_headers(headers):
    types = _wit.module("imports.types")
    return [types.Header(h.name, h.value) for h in headers]


def walk_batch(data: bytes, refs, decide) -> list[tuple[int, Action]]:
    """Runs `decide` on every message and returns `(index, action)` for those
    that do not pass. Public for tests."""
    verdicts = []
    for index, ref in enumerate(refs):
        action = decide(Message(data, ref, index))
        if action is not None and action.kind != "pass":
            verdicts.append((index, action))
    return verdicts


def export_transform(plugin):
    """Makes `plugin` (a class or object with `register()` and
    `transform(msg)`) the component's `transformer` export. Bind the result
    to the name `Transformer` in the app module:

        Transformer = export_transform(MyPlugin)
    """
    impl = plugin() if isinstance(plugin, type) else plugin

    class Transformer:
        def register(self):
            return reported(lambda: impl.register().to_wit())

        def transform_batch(self, batch):
            t = _wit.module("exports.transformer")
            return reported(
                lambda: [
                    t.Verdict(index, action.to_wit())
                    for index, action in walk_batch(batch.data, batch.messages, impl.transform)
                ]
            )

    return Transformer
