"""What a provider says about the person who signed in."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ProviderError", "ProviderProfile", "asserted_true", "text_claim"]


class ProviderError(Exception):
    """The provider refused, failed, or answered something that must not be trusted.

    ``error`` is the OAuth error code handed on to the app's callback page.
    """

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def asserted_true(value: Any) -> bool:
    """A boolean claim; some providers (Apple) send ``"true"`` as a string."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


@dataclass(frozen=True)
class ProviderProfile:
    provider: str
    subject: str
    email: str | None = None
    #: Whether the provider vouches that the person controls ``email``.
    email_verified: bool = False
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    picture: str | None = None

    def user_profile(self) -> dict[str, Any]:
        """The new user's profile, from what the provider gave."""
        fields = {
            "name": self.name,
            "first_name": self.given_name,
            "last_name": self.family_name,
            "picture": self.picture,
        }
        return {key: value for key, value in fields.items() if value}

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ProviderProfile:
        return cls(**json.loads(text))


def text_claim(claims: dict[str, Any], name: str, limit: int = 500) -> str | None:
    value = claims.get(name)
    return value[:limit] if isinstance(value, str) and value else None
