"""Sessions: DPoP-bound refresh tokens, rotation, revocation, device and country."""

from sessile.sessions.challenges import ChallengeTokens, SessionStartTokens
from sessile.sessions.service import (
    ClientFacts,
    IssuedTokens,
    RevokeTarget,
    SessionPolicy,
    SessionService,
)

__all__ = [
    "ChallengeTokens",
    "ClientFacts",
    "IssuedTokens",
    "RevokeTarget",
    "SessionPolicy",
    "SessionService",
    "SessionStartTokens",
]
