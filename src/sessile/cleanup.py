"""What the scheduled clean-up deletes, and how long each kind of row is kept.

Every table that grows with use is here, each with the rows nothing can need any more.
The deletes run in bounded batches (store/purge.py), by one node at a time.
"""

from __future__ import annotations

import sqlalchemy as sa

from sessile.config import Settings
from sessile.store.drivers import Driver
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


#: The time before which a row is dead: every condition binds it as ``before``.
_BEFORE: sa.BindParameter[float] = sa.bindparam("before")
_NOW: sa.BindParameter[float] = sa.bindparam("now")

#: A purged table, the condition that marks its dead rows (over named bind parameters),
#: and their values.
Dead = tuple[sa.Table, sa.ColumnElement[bool], dict[str, float]]


def expired_rows(settings: Settings, now: float) -> dict[str, Dead]:
    """Each purged table, by name, with the condition that marks its dead rows."""
    expired = {"before": now}
    return {
        "challenge_tokens": (challenge_tokens, challenge_tokens.c.expires_at <= _BEFORE, expired),
        "otp_challenges": (otp_challenges, otp_challenges.c.expires_at <= _BEFORE, expired),
        "stepup_challenges": (
            stepup_challenges,
            stepup_challenges.c.expires_at <= _BEFORE,
            expired,
        ),
        "oauth_states": (oauth_states, oauth_states.c.expires_at <= _BEFORE, expired),
        "end_session_links": (
            end_session_links,
            end_session_links.c.expires_at <= _BEFORE,
            expired,
        ),
        "dpop_replay": (dpop_replay, dpop_replay.c.expires_at < _BEFORE, expired),
        "rate_limits": (rate_limits, rate_limits.c.expires_at <= _BEFORE, expired),
        "revocations": (
            revocations,
            revocations.c.revoked_at < _BEFORE,
            {"before": now - settings.access_token_ttl - _FEED_MARGIN},
        ),
        "deliveries": (
            deliveries,
            sa.and_(deliveries.c.next_attempt_at.is_(None), deliveries.c.created_at < _BEFORE),
            {"before": now - settings.delivery_retention},
        ),
        "webhook_events": (
            webhook_events,
            sa.and_(webhook_events.c.sent_at.is_not(None), webhook_events.c.sent_at < _BEFORE),
            {"before": now - settings.event_retention},
        ),
        "audit_events": (
            audit_events,
            audit_events.c.at < _BEFORE,
            {"before": now - settings.audit_retention},
        ),
        "login_failures": (
            login_failures,
            sa.and_(
                login_failures.c.updated_at < _BEFORE,
                sa.or_(
                    login_failures.c.locked_until.is_(None), login_failures.c.locked_until <= _NOW
                ),
            ),
            {"before": now - settings.lockout_max - _FAILURES_MARGIN, "now": now},
        ),
    }


async def purge_expired(driver: Driver, settings: Settings, now: float) -> dict[str, int]:
    """Delete every table's dead rows in bounded batches; return the counts by table."""
    bounds = PurgeBounds(settings.session_purge_batch, settings.session_purge_max_batches)
    counts = {}
    for name, (table, condition, params) in expired_rows(settings, now).items():
        counts[name] = await delete_in_batches(
            driver, f"cleanup.{name}", table, condition, bounds, params
        )
    return counts
