"""What a step-up request may carry, and whether a user can do a challenge's steps
(PRELUDE-API §2.18, §3.2). Plain values in, errors out; no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sessile.errors import AuthBlocked, InvalidMetadata
from sessile.login.admission import may_log_in
from sessile.stepup.config import MANAGED_STEPS, Step
from sessile.store.users import User

__all__ = ["IDENTIFIER_KEY", "check_metadata", "check_steps"]

#: The metadata member that names the identifier a register scope adds.
IDENTIFIER_KEY = "identifier"

_MAX_MEMBERS = 5
_MAX_KEY = 12
_MAX_VALUE = 32
_MAX_IDENTIFIER = 320
_KEY = re.compile(r"^[a-zA-Z0-9._:-]+$")


def check_metadata(value: Any, *, register: bool) -> dict[str, str]:
    """At most 5 string members, names of at most 12 characters of the scope alphabet,
    values of at most 32 (the ``identifier`` of a register scope up to 320); otherwise
    ``invalid_metadata``."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > _MAX_MEMBERS:
        raise InvalidMetadata(f"metadata must be an object of at most {_MAX_MEMBERS} members.")
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= _MAX_KEY or not _KEY.match(key):
            raise InvalidMetadata(
                f"metadata names are 1 to {_MAX_KEY} characters of a-z A-Z 0-9 . _ : -"
            )
        longest = _MAX_IDENTIFIER if register and key == IDENTIFIER_KEY else _MAX_VALUE
        if not isinstance(item, str) or len(item) > longest:
            raise InvalidMetadata(f"metadata {key!r} must be a string of at most {longest}.")
    return dict(value)


def check_steps(user: User, steps: Sequence[Step]) -> None:
    """The user may log in and can do every managed step: a proven identifier for each
    code step, a password for the password step; ``auth_blocked`` otherwise."""
    if not may_log_in(user):
        raise AuthBlocked("This account is disabled.")
    for step in steps:
        if step.key not in MANAGED_STEPS:
            continue
        kind = MANAGED_STEPS[step.key]
        if kind is None:
            if user.password_hash is None:
                raise AuthBlocked("This account has no password to confirm.")
        elif not user.is_proven(kind):
            noun = "e-mail address" if kind == "email_address" else "phone number"
            raise AuthBlocked(f"This account has no proven {noun} to send a code to.")
