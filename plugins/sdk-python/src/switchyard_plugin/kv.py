"""The tenant's in-memory key-value store, shared by all its plugins and
instances, never by another tenant. Transform and routing plugins only: the
auth world does not import `kv`. Limits: keys up to 256 bytes, values up to
4 KiB, 10,000 live keys per tenant; a write past a limit raises `KvError`
and changes nothing."""

from . import _wit


class KvError(Exception):
    """The store refused a write; the message says why."""


def _kv():
    return _wit.module("imports.kv")


def get(key: str) -> bytes | None:
    return _kv().get(key)


def set(key: str, value: bytes, ttl_ms: int | None = None) -> None:
    try:
        _kv().set(key, bytes(value), ttl_ms)
    except Exception as e:  # componentize_py_types.Err
        raise KvError(getattr(e, "value", str(e))) from None


def delete(key: str) -> None:
    _kv().delete(key)


def increment(key: str, delta: int, ttl_ms: int | None = None) -> int:
    try:
        return _kv().increment(key, delta, ttl_ms)
    except Exception as e:  # componentize_py_types.Err
        raise KvError(getattr(e, "value", str(e))) from None
