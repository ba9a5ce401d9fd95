"""Read access to a raw NATS header block, parsed lazily.

The broker hands plugins the block exactly as published
(`NATS/1.0[ status]\\r\\nName: value\\r\\n...\\r\\n\\r\\n`). Malformed lines are
skipped, never raised, so a hostile publisher cannot make a plugin trap.
"""

from dataclasses import dataclass


@dataclass
class Header:
    """One header a plugin produces (for `Action.modify` or a split)."""

    name: str
    value: str


class Headers:
    """A view of a message's header block; empty when the message has none or
    the plugin did not register `wants_headers`."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes = b""):
        self.raw = raw

    def _lines(self):
        for line in self.raw.split(b"\n"):
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                return
            yield line

    def __iter__(self):
        """Every `(name, value)` pair in order; a name may repeat."""
        lines = self._lines()
        next(lines, None)
        for line in lines:
            pair = _parse_line(line)
            if pair is not None:
                yield pair

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def status(self) -> int | None:
        """The status code of the first line (`NATS/1.0 503`), if any."""
        first = next(self._lines(), None)
        if first is None or not first.startswith(b"NATS/1.0"):
            return None
        code = first[8:].strip().split(b" ")[0]
        return int(code) if code.isdigit() else None

    def get(self, name: str) -> str | None:
        """The first value of `name`, compared exactly (NATS header names are
        case-sensitive)."""
        return next((v for n, v in self if n == name), None)

    def get_ignore_case(self, name: str) -> str | None:
        """The first value of `name`, ignoring ASCII case."""
        lowered = name.lower()
        return next((v for n, v in self if n.lower() == lowered), None)

    def get_all(self, name: str) -> list[str]:
        return [v for n, v in self if n == name]

    def to_list(self) -> list[Header]:
        return [Header(n, v) for n, v in self]


def _parse_line(line: bytes):
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name:
        return None
    return name, value.strip()
