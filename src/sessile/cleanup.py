"""What the scheduled clean-up deletes, and how long each kind of row is kept.

Every table that grows with use is here, each with the rows nothing can need any more.
The deletes run in bounded batches (store/purge.py), by one node at a time.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.config import Settings
from sessile.store.purge import PurgeBounds, delete_in_batches
from sessile.store.schema import (
    audit_events,
    challenge_tokens,
    deliveries,
    dpop_replay,
    end_session_links,
    login_failures,
    oauth_states,
    otp_challenges,
    rate_limits,
    revocations,
    stepup_challenges,
    webhook_events,
)

__all__ = ["expired_rows", "purge_expired"]

#: Revocation-feed rows outlive every access token they could concern by this margin.
_FEED_MARGIN = 300
#: Failed-login counts outlive the longest lock by a day.
_FAILURES_MARGIN = 86_400


Dead = tuple[sa.Table, sa.ColumnElement[bool]]


def expired_rows(settings: Settings, now: float) -> dict[str, Dead]:
    """Each purged table, by name, with the condition that marks its dead rows."""
    return {
        "challenge_tokens": (challenge_tokens, challenge_tokens.c.expires_at <= now),
        "otp_challenges": (otp_challenges, otp_challenges.c.expires_at <= now),
        "stepup_challenges": (stepup_challenges, stepup_challenges.c.expires_at <= now),
        "oauth_states": (oauth_states, oauth_states.c.expires_at <= now),
        "end_session_links": (end_session_links, end_session_links.c.expires_at <= now),
        "dpop_replay": (dpop_replay, dpop_replay.c.expires_at < now),
        "rate_limits": (rate_limits, rate_limits.c.expires_at <= now),
        "revocations": (
            revocations,
            revocations.c.revoked_at < now - settings.access_token_ttl - _FEED_MARGIN,
        ),
        "deliveries": (
            deliveries,
            sa.and_(
                deliveries.c.next_attempt_at.is_(None),
                deliveries.c.created_at < now - settings.delivery_retention,
            ),
        ),
        "webhook_events": (
            webhook_events,
            sa.and_(
                webhook_events.c.sent_at.is_not(None),
                webhook_events.c.sent_at < now - settings.event_retention,
            ),
        ),
        "audit_events": (audit_events, audit_events.c.at < now - settings.audit_retention),
        "login_failures": (
            login_failures,
            sa.and_(
                login_failures.c.updated_at < now - settings.lockout_max - _FAILURES_MARGIN,
                sa.or_(
                    login_failures.c.locked_until.is_(None), login_failures.c.locked_until <= now
                ),
            ),
        ),
    }


async def purge_expired(engine: AsyncEngine, settings: Settings, now: float) -> dict[str, int]:
    """Delete every table's dead rows in bounded batches; return the counts by table."""
    bounds = PurgeBounds(settings.session_purge_batch, settings.session_purge_max_batches)
    counts = {}
    for name, (table, condition) in expired_rows(settings, now).items():
        counts[name] = await delete_in_batches(engine, table, condition, bounds)
    return counts
