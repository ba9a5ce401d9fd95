"""What the transform and routing worlds' messages share: one message of a
batch, read as byte ranges (`span`s) of the batch's buffer."""

from .headers import Headers


class MessageView:
    """Subject, reply and headers of message `index`, as views into `data`."""

    __slots__ = ("_data", "_ref", "index")

    def __init__(self, data: bytes, ref, index: int):
        self._data = data
        self._ref = ref
        self.index = index

    def _bytes(self, span) -> bytes:
        end = span.offset + span.len
        # A span outside the buffer would be a broker bug: read it as empty.
        return self._data[span.offset:end] if end <= len(self._data) else b""

    def _text(self, span) -> str:
        try:
            return self._bytes(span).decode("utf-8")
        except UnicodeDecodeError:
            return ""

    @property
    def subject(self) -> str:
        return self._text(self._ref.subject)

    @property
    def reply(self) -> str | None:
        return None if self._ref.reply is None else self._text(self._ref.reply)

    @property
    def headers(self) -> Headers:
        """Empty unless registered `with_headers()` and present."""
        return Headers(b"" if self._ref.headers is None else self._bytes(self._ref.headers))
