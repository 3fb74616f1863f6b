"""What changed on an account, as its notice tells it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sessile.store.user_identifiers import Identifier

__all__ = ["AccountChange", "ChangeKind"]

ChangeKind = Literal[
    "identifier_added", "identifier_removed", "provider_linked", "password_changed"
]


@dataclass(frozen=True)
class AccountChange:
    kind: ChangeKind
    #: What the notice names: the identifier's value, or the provider's label.
    subject: str = ""
    #: Told as well as the account's proven identifiers: a removed one, no longer there.
    also: tuple[Identifier, ...] = ()

    @classmethod
    def identifier_added(cls, identifier: Identifier) -> AccountChange:
        return cls("identifier_added", identifier.value)

    @classmethod
    def identifier_removed(cls, identifier: Identifier, *, was_proven: bool) -> AccountChange:
        # An unproven identifier may be anyone's: it is not told of its own removal.
        return cls("identifier_removed", identifier.value, (identifier,) if was_proven else ())

    @classmethod
    def provider_linked(cls, label: str) -> AccountChange:
        return cls("provider_linked", label)

    @classmethod
    def password_changed(cls) -> AccountChange:
        return cls("password_changed")
