"""Tables (DESIGN §5, §8). Times are unix seconds as doubles, the same on every dialect.

Every hot lookup is by primary key, and sessions carry ``user_id`` so they can
shard by user.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "api_keys",
    "app_config",
    "audit_events",
    "challenge_tokens",
    "deliveries",
    "dpop_replay",
    "end_session_links",
    "identifiers",
    "identities",
    "login_failures",
    "metadata",
    "oauth_states",
    "otp_challenges",
    "rate_limits",
    "revocations",
    "server_secrets",
    "sessions",
    "signing_keys",
    "stepup_challenges",
    "users",
    "webhook_events",
    "webhooks",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Time = sa.Double


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("profile", sa.JSON, nullable=False),
    sa.Column("password_hash", sa.String(255)),
    # The password came from a self-service sign-up before any identifier was proven: the
    # first proof of an identifier removes it (DESIGN §12, "identifiers are proven").
    sa.Column("password_unproven", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("disabled_at", Time),
    #: The user's id in the app's own system (Prelude's ``external_id``), unique when set.
    sa.Column("external_id", sa.String(128), unique=True),
    #: Scopes granted to the user (strings); exposed to custom claims and the management API.
    sa.Column("scopes", sa.JSON),
)

identifiers = sa.Table(
    "identifiers",
    metadata,
    sa.Column("type", sa.String(20), primary_key=True),
    sa.Column("value", sa.String(320), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(40),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", Time, nullable=False),
    #: When a code (or a trusted assertion) first proved that the user owns it.
    sa.Column("verified_at", Time),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(40),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("jkt", sa.String(64), nullable=False),
    sa.Column("auth_method", sa.String(20), nullable=False),
    # Refresh rotation: the current token's hash, its generation, and the
    # predecessor's hash with the time it was replaced (for the grace window).
    sa.Column("refresh_hash", sa.String(64), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("previous_hash", sa.String(64)),
    sa.Column("rotated_at", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_seen_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
    sa.Column("revoked_reason", sa.String(40)),
    sa.Column("device_type", sa.String(10), nullable=False),
    sa.Column("device_model", sa.String(100)),
    sa.Column("os_version", sa.String(100)),
    sa.Column("browser", sa.String(100)),
    sa.Column("country_code", sa.String(2)),
    sa.Column("ip", sa.String(45)),
    sa.Column("user_agent", sa.String(512)),
    # The last two refresh proofs the rotation took (DESIGN §3.7): it takes only a
    # proof newer than its key's last, so its replay check rides in the rotation's write.
    sa.Column("last_proof_iat", Time),
    sa.Column("last_proof_jti", sa.String(255)),
    sa.Column("prev_proof_iat", Time),
    sa.Column("prev_proof_jti", sa.String(255)),
    # A scope granted by a step-up (DESIGN §12): minted into the session's access tokens
    # until granted_until.
    sa.Column("granted_scope", sa.String(100)),
    sa.Column("granted_until", Time),
    sa.Index(None, "user_id", "created_at"),
    sa.Index(None, "jkt"),
)

challenge_tokens = sa.Table(
    "challenge_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(40),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("auth_method", sa.String(20), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("used_at", Time),
    #: The OTP login config a code login ran under: its granted scopes join the session.
    sa.Column("login_config_id", sa.String(40)),
    #: The client's PKCE S256 challenge (social login): finalize needs its code_verifier.
    sa.Column("code_challenge", sa.String(128)),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("alg", sa.String(10), nullable=False),
    sa.Column("public_jwk", sa.JSON, nullable=False),
    # AES-GCM ciphertext of the private JWK under a key derived from the server secret.
    sa.Column("private_jwk_encrypted", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    # Published from created_at; signs from active_at; stops signing at
    # retired_at; published until retired_at plus the longest token lifetime.
    sa.Column("active_at", Time, nullable=False),
    sa.Column("retired_at", Time),
)

server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value_encrypted", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

dpop_replay = sa.Table(
    "dpop_replay",
    metadata,
    sa.Column("jkt", sa.String(64), primary_key=True),
    sa.Column("jti", sa.String(255), primary_key=True),
    sa.Column("expires_at", Time, nullable=False, index=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    # SHA-256 of the secret part: keys are 256 random bits, so a fast hash is enough.
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_used_at", Time),
    sa.Column("revoked_at", Time),
    #: What the key may do (``users:read``, …); null is every scope (keys made before scopes).
    sa.Column("scopes", sa.JSON),
)

# The revocation feed (DESIGN §10): one row per revoked session, or per user-wide
# revocation (``session_id`` null: every token of the user issued before ``revoked_at``).
revocations = sa.Table(
    "revocations",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("session_id", sa.String(40)),
    sa.Column("revoked_at", Time, nullable=False, index=True),
)

# One-time-code challenges (DESIGN §6). The browser holds ``verification_hash``'s
# token in a cookie (or X-Verification-Token); the code is stored as an HMAC.
otp_challenges = sa.Table(
    "otp_challenges",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("verification_hash", sa.String(64), nullable=False),
    sa.Column("identifier_type", sa.String(20), nullable=False),
    sa.Column("identifier_value", sa.String(320), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    #: False when the code was never sent (unknown identifier and sign-up off).
    sa.Column("deliverable", sa.Boolean, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("sends", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_sent_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("consumed_at", Time),
    #: ``login``, or ``signup``: a pending password sign-up, made into a user by its code.
    sa.Column("purpose", sa.String(20), nullable=False, server_default="login"),
    #: The pending sign-up's password hash; no user exists until the code proves the address.
    sa.Column("password_hash", sa.String(255)),
    #: ``oauth_link``: the client's PKCE S256 challenge; its verifier arms the challenge.
    sa.Column("code_challenge", sa.String(128)),
    #: ``oauth_link``: the provider identity (JSON) that joins the account the code proves.
    sa.Column("pending_identity", sa.Text),
    #: The user a ``stepup`` or ``register`` code was sent for; null for logins and sign-ups.
    sa.Column("user_id", sa.String(40)),
    #: ``login``: the OTP login config (``lcfg_…``) the login was started under, whose
    #: granted scopes the session gets; null when no config was in force.
    sa.Column("login_config_id", sa.String(40)),
)

# Step-up challenges (DESIGN §12): a session asks for a scope and proves factors, step by
# step. Only the challenge token whose jti is ``token_jti`` is current; ``checked`` counts
# steps whose factor was proven, ``position`` steps advanced past with /stepup/continue.
stepup_challenges = sa.Table(
    "stepup_challenges",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(40),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("session_id", sa.String(40), nullable=False),
    sa.Column("scope", sa.String(100), nullable=False),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("grant_mode", sa.String(20), nullable=False),
    sa.Column("granted_for", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("token_jti", sa.String(64), nullable=False),
    sa.Column("otp_id", sa.String(40)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("step_started_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("redeemed_at", Time),
)

# Failed code and password checks per identifier, across challenges (DESIGN §6): a growing
# lockout, and a hard stop after ``lockout_hard_cap`` consecutive failures.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("identifier_type", sa.String(20), primary_key=True),
    sa.Column("identifier_value", sa.String(320), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", Time),
    sa.Column("updated_at", Time, nullable=False, index=True),
)

# Social login (login/oauth/): which provider account (provider, subject) is which user.
identities = sa.Table(
    "identities",
    metadata,
    sa.Column("provider", sa.String(40), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(40),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    #: The e-mail address the provider gave, and whether it said the address was verified.
    sa.Column("email", sa.String(320)),
    sa.Column("email_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_login_at", Time, nullable=False),
    #: Linked to an account made around its unproven address (login/ownership.py): the
    #: address's first proof by its owner unlinks it.
    sa.Column("unproven", sa.Boolean, nullable=False, server_default=sa.false()),
)

# The links in account notices that end every session of the account (notices/): single
# use, expiring, stored as the SHA-256 of their token.
end_session_links = sa.Table(
    "end_session_links",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(40),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("used_at", Time),
)

# Social logins under way: ``state`` (stored hashed) names one, single use, bound by
# ``binder_hash`` to the browser that started it.
oauth_states = sa.Table(
    "oauth_states",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("binder_hash", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.String(2048), nullable=False),
    #: The client's PKCE S256 challenge, passed on to the challenge token.
    sa.Column("client_code_challenge", sa.String(128), nullable=False),
    #: sessile's own PKCE verifier and OpenID Connect nonce for the provider leg.
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("nonce", sa.String(128)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("consumed_at", Time),
)

# Messages to send (codes, notices), written in the same transaction as what they announce
# and sent by a background worker (DESIGN §12, "events"), so a request never waits on a
# provider and known and unknown identifiers look alike.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("channel", sa.String(10), nullable=False),
    #: Nothing to send (an identifier with no account): handled like the rest, sent to nobody.
    sa.Column("suppressed", sa.Boolean, nullable=False),
    #: AES-GCM ciphertext of the message, which may hold a code; emptied once it is settled.
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    #: Not worth sending after this (a code's challenge has expired).
    sa.Column("expires_at", Time, nullable=False),
    #: Null once settled: sent, or dead-lettered.
    sa.Column("next_attempt_at", Time, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("leased_until", Time),
    sa.Column("sent_at", Time),
    sa.Column("dead_at", Time),
    sa.Column("last_error", sa.String(200)),
)

# Rate-limit counters (fixed windows) when there is no Redis: every worker and node of one
# database shares them (DESIGN §6), which a process's memory can't.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
)

# Webhook endpoints (DESIGN §12, "events"): a URL, an event filter and a signing secret.
# An endpoint receives events only once it has echoed an activation challenge.
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("events", sa.JSON, nullable=False),
    #: Sent back in the activation challenge, so the receiver knows the request is ours.
    sa.Column("verification_token", sa.String(255), nullable=False),
    #: AES-GCM ciphertext of the HMAC secret that signs each delivery under ``hmac-sha256``.
    sa.Column("secret_encrypted", sa.Text, nullable=False),
    #: How deliveries are signed: ``rsassa-pss-sha256`` (a key of the JWKS) or ``hmac-sha256``.
    sa.Column("signature", sa.String(24), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("last_http_code", sa.Integer),
    sa.Column("last_http_code_at", Time),
)

# The event outbox: one row per (event, endpoint), written in the transaction of the change
# it announces. Only the oldest unsettled row of a user (per endpoint) can be claimed, so a
# user's events arrive in order; rows of different users travel together in batches.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column(
        "webhook_id",
        sa.String(40),
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    #: Null once settled: delivered, or dead-lettered.
    sa.Column("next_attempt_at", Time, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("leased_until", Time),
    sa.Column("sent_at", Time),
    sa.Column("dead_at", Time),
    sa.Column("last_error", sa.String(200)),
    sa.UniqueConstraint("webhook_id", "event_id"),
    sa.Index(None, "webhook_id", "user_id", "seq"),
)

# Security events (logins, code sends and failed checks, refresh reuse, revocations,
# password and identifier changes, API-key use), kept for ``audit_retention``.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("user_id", sa.String(40), index=True),
    #: Who did it: ``user:<id>``, ``api_key:<id>``, ``cli``, or ``anonymous``.
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("ip", sa.String(45)),
    sa.Column("user_agent", sa.String(512)),
    sa.Column("at", Time, nullable=False, index=True),
    sa.Column("data", sa.JSON, nullable=False),
)

# Settings changed through the management API (custom claims), shared by every node.
app_config = sa.Table(
    "app_config",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", Time),
    sa.Column("updated_at", Time, nullable=False),
)
