"""The plugin's `config` table from the tenant file (or, for auth plugins,
the server file). Each call asks the host: read configuration once per
instance, not per message."""

from . import _wit


def get(key: str) -> str | None:
    """One value, `None` when the key is absent."""
    return _wit.module("imports.host").config_get(key)


def entries() -> list[tuple[str, str]]:
    """Every key and value, sorted by key."""
    return list(_wit.module("imports.host").config_entries())


def list_(key: str) -> list[str] | None:
    """A value split on commas, items trimmed and empty items skipped."""
    value = get(key)
    return None if value is None else split_list(value)


def parse(key: str, convert):
    """A value converted with `convert` (e.g. `int`); `ValueError` names the
    key and the bad value, so a plugin can refuse bad configuration."""
    value = get(key)
    if value is None:
        return None
    try:
        return convert(value.strip())
    except ValueError:
        raise ValueError(f"config `{key}`: cannot parse `{value}`") from None


def split_list(value: str) -> list[str]:
    """The comma-separated list format used by every Switchyard plugin."""
    return [item.strip() for item in value.split(",") if item.strip()]
