"""What a user adds to their access tokens (DESIGN §4, §12), when the operator asks for it.

With ``SESSILE_TOKEN_IDENTITY_CLAIMS``, each access token carries the OpenID Connect
claims ``email``, ``email_verified``, ``phone_number`` and ``phone_number_verified``
(OpenID Connect Core §5.1), so a backend can tell a proven address from a claimed one
without calling the management API. It costs one read by primary key per token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sessile.store.users import User, UserStore

__all__ = ["UserClaims", "combined", "identity_claims", "identity_claims_from"]

#: The claims a user adds to a token: called with the user's id and the session's (None for
#: a token with no session, such as a minted one).
UserClaims = Callable[[str, str | None], Awaitable[dict[str, Any]]]


def identity_claims(user: User) -> dict[str, Any]:
    """The user's e-mail address and phone number, a proven one first, and whether each is
    proven; a kind the user does not have is left out."""
    claims: dict[str, Any] = {}
    for kind, name, verified in (
        ("email_address", "email", "email_verified"),
        ("phone_number", "phone_number", "phone_number_verified"),
    ):
        held = [i for i in user.identifiers if i.type == kind]
        if not held:
            continue
        chosen = next((i for i in held if i in user.proven), held[0])
        claims[name] = chosen.value
        claims[verified] = chosen in user.proven
    return claims


def combined(*sources: UserClaims) -> UserClaims:
    """One per-user claims callable from several (later ones win on a shared name)."""

    async def claims_for(user_id: str, session_id: str | None) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for source in sources:
            merged.update(await source(user_id, session_id))
        return merged

    return claims_for


def identity_claims_from(users: UserStore) -> UserClaims:
    async def claims_for(user_id: str, session_id: str | None) -> dict[str, Any]:
        user = await users.get(user_id)
        return {} if user is None else identity_claims(user)

    return claims_for
