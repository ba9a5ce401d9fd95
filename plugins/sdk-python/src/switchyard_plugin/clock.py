"""Time, from the host (the guest's own clock is a stub)."""

from . import _wit


def now_ms() -> int:
    """Wall-clock milliseconds since the Unix epoch."""
    return _wit.module("imports.host").now_ms()


def monotonic_ns() -> int:
    """Monotonic nanoseconds from an arbitrary start; for intervals."""
    return _wit.module("imports.host").monotonic_ns()
