"""Identifiers (DESIGN §6): e-mail addresses (normalised, email-validator) and E.164 phone
numbers (phonenumbers). A malformed one is ``invalid_identifier``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from sessile.errors import InvalidIdentifier
from sessile.store.user_identifiers import Identifier

__all__ = ["IDENTIFIER_TYPES", "parse_identifier"]

IDENTIFIER_TYPES = ("email_address", "phone_number")


def parse_identifier(value: Any) -> Identifier:
    """Parse ``{"type": ..., "value": ...}`` into a normalised Identifier."""
    if not isinstance(value, dict):
        raise InvalidIdentifier("identifier must be an object with type and value.")
    kind, raw = value.get("type"), value.get("value")
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 320:
        raise InvalidIdentifier("identifier.value must be a non-empty string.")
    if kind == "email_address":
        return Identifier(kind, normalize_email(raw))
    if kind == "phone_number":
        return Identifier(kind, normalize_phone(raw))
    raise InvalidIdentifier("identifier.type must be email_address or phone_number.")


# Normalizing is a pure function of the string, and not a cheap one (an address is about
# 20 µs in email-validator, mostly its IDNA checks of the domain): the same addresses come
# back, a backend looking up its users, a flood of starts for one address. Bounded: an
# attacker cycling addresses only evicts. A malformed one raises, and is not kept.
_NORMALIZED_KEPT = 4096


@lru_cache(maxsize=_NORMALIZED_KEPT)
def normalize_email(raw: str) -> str:
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdentifier(f"Not a valid email address: {exc}") from exc
    # The domain is case-insensitive; the local part is kept as written but for case,
    # which every mainstream provider ignores (so one person can't hold two accounts).
    return checked.normalized.lower()


@lru_cache(maxsize=_NORMALIZED_KEPT)
def normalize_phone(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw.strip(), None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("Not a phone number in international (E.164) form.") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier("Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
