"""What a message plugin asks of the broker when it is loaded."""

from dataclasses import dataclass, field

from . import _wit, config


@dataclass
class Registration:
    """The subjects a transform or routing plugin wants to see, and which
    parts of a message it needs. The broker matches subjects natively and
    copies headers and payload into the plugin only when asked, so asking
    for less makes every call cheaper."""

    subjects: list[str] = field(default_factory=list)
    wants_headers: bool = False
    wants_payload: bool = False

    @classmethod
    def of(cls, subjects) -> "Registration":
        """Registers for `subjects`, without headers or payload."""
        return cls(list(subjects))

    @classmethod
    def from_config(cls, key: str, default) -> "Registration":
        """Registers for the comma-separated subjects of config `key`, or
        `default` when the key is absent or empty."""
        subjects = config.list_(key)
        return cls(subjects if subjects else list(default))

    def with_headers(self) -> "Registration":
        self.wants_headers = True
        return self

    def with_payload(self) -> "Registration":
        self.wants_payload = True
        return self

    def to_wit(self):
        types = _types()
        return types.Registration(list(self.subjects), self.wants_headers, self.wants_payload)


def _types():
    return _wit.module("imports.types")
