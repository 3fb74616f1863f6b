"""What a management API key may do (least privilege). A key made without scopes (every key
made before scopes existed) may do everything."""

from __future__ import annotations

__all__ = [
    "API_SCOPES",
    "AUDIT",
    "CONFIG",
    "REVOCATIONS_READ",
    "SESSIONS",
    "TOKENS",
    "USERS_READ",
    "USERS_WRITE",
    "WEBHOOKS",
]

#: Read the revocation feed (what a token verifier needs, and nothing else).
REVOCATIONS_READ = "revocations:read"
#: Read users and look them up.
USERS_READ = "users:read"
#: Create, change and delete users, their identifiers, status, scopes and password.
USERS_WRITE = "users:write"
#: List and revoke a user's sessions.
SESSIONS = "sessions"
#: Manage webhook endpoints and their dead letters.
WEBHOOKS = "webhooks"
#: Read and change the app's configuration (custom claims, login configs).
CONFIG = "config"
#: Mint tokens (only when ``SESSILE_MINT_TOKENS`` is on).
TOKENS = "tokens"
#: Read the audit trail.
AUDIT = "audit"

API_SCOPES = (
    REVOCATIONS_READ,
    USERS_READ,
    USERS_WRITE,
    SESSIONS,
    WEBHOOKS,
    CONFIG,
    TOKENS,
    AUDIT,
)
