"""Which scopes a session may ask for, the steps each needs, and what a request may carry
(DESIGN §12). Plain values in, errors out; no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sessile.errors import AuthBlocked, InvalidMetadata, ScopeNotAllowed, StepUpNotConfigured
from sessile.login.admission import may_log_in
from sessile.store.users import User

__all__ = [
    "OTP_STEPS",
    "STEP_KINDS",
    "check_metadata",
    "configured_steps",
    "steps_for",
]

#: A code step and the kind of proven identifier its code goes to.
OTP_STEPS = {"email_otp": "email_address", "sms_otp": "phone_number"}
STEP_KINDS = (*OTP_STEPS, "password")

_MAX_METADATA = 10
_MAX_KEY = 64
_MAX_VALUE = 256


def check_metadata(value: Any) -> dict[str, str]:
    """An object of at most 10 string members, each short; InvalidMetadata otherwise."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > _MAX_METADATA:
        raise InvalidMetadata(f"metadata must be an object of at most {_MAX_METADATA} members.")
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= _MAX_KEY:
            raise InvalidMetadata(f"metadata names must be 1 to {_MAX_KEY} characters.")
        if not isinstance(item, str) or len(item) > _MAX_VALUE:
            raise InvalidMetadata(f"metadata values must be strings of at most {_MAX_VALUE}.")
    return dict(value)


def configured_steps(scopes: Mapping[str, Sequence[str]], scope: str) -> list[str]:
    """The configured steps of ``scope``; not_configured or scope_not_allowed otherwise."""
    if not scopes:
        raise StepUpNotConfigured()
    steps = scopes.get(scope)
    if steps is None:
        raise ScopeNotAllowed(f"The scope {scope[:100]!r} is not configured for step-up.")
    return list(steps)


def steps_for(user: User, steps: Sequence[str]) -> list[str]:
    """``steps``, if this user can do every one of them; auth_blocked otherwise."""
    if not may_log_in(user):
        raise AuthBlocked("This account is disabled.")
    for step in steps:
        if step == "password":
            if user.password_hash is None:
                raise AuthBlocked("This account has no password to confirm.")
        elif not user.is_proven(OTP_STEPS[step]):
            kind = "e-mail address" if step == "email_otp" else "phone number"
            raise AuthBlocked(f"This account has no proven {kind} to send a code to.")
    return list(steps)
