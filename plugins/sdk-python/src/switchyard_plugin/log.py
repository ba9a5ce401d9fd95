"""Log lines written through the broker, tagged with tenant and plugin.
Lines above the broker's level are dropped by the host, but the string is
still built in the plugin: do not format per message."""

from . import _wit


def log(level: str, message: str) -> None:
    """`level` is one of trace, debug, info, warn, error."""
    levels = _wit.module("imports.types").Level
    _wit.module("imports.host").log(levels[level.upper()], message)


def trace(message: str) -> None:
    log("trace", message)


def debug(message: str) -> None:
    log("debug", message)


def info(message: str) -> None:
    log("info", message)


def warn(message: str) -> None:
    log("warn", message)


def error(message: str) -> None:
    log("error", message)
