"""Session rules (DESIGN §4, §5): create, refresh with rotation and reuse detection, revoke, list.

No HTTP here: callers pass the validated DPoP thumbprint and the client's facts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sessile.access_tokens import AccessTokens
from sessile.clock import Clock
from sessile.dpop.proof import ValidatedProof
from sessile.dpop.replay_cache import ReplayStore
from sessile.errors import DPoPKeyMismatch, InvalidDPoPProof, NotFound, Unauthorized, UseDPoPNonce
from sessile.ids import new_id
from sessile.metrics import LOGINS, REFRESHES
from sessile.sessions.device import Device
from sessile.sessions.lifetime import ends_at, is_live
from sessile.sessions.refresh_tokens import (
    RefreshToken,
    first_token,
    hash_token,
    parse_token,
    reaches,
    successor,
)
from sessile.shared_secrets import SharedSecrets
from sessile.store.database import Database
from sessile.store.session_rows import Rotation, SessionRow
from sessile.store.users import NewUser

__all__ = ["ClientFacts", "IssuedTokens", "RevokeTarget", "SessionPolicy", "SessionService"]

log = logging.getLogger("sessile.sessions")

RevokeTarget = Literal["all", "others", "mine", "session"]

_SUCCESSOR_SECRET = "refresh-successor"
_INVALID = "The refresh token is invalid, expired or revoked."
#: Each outcome's counter, found once: one is counted on every refresh.
_REFRESHED = {
    outcome: REFRESHES.labels(outcome=outcome)
    for outcome in ("rotated", "grace", "reuse_revoked", "key_mismatch", "expired", "forged")
}
_REPLAYED = "The DPoP proof has been used before."


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: float
    absolute_lifetime: float
    refresh_grace: float
    #: Live sessions a user may hold; a new one past it ends the oldest.
    max_sessions_per_user: int = 100


@dataclass(frozen=True)
class ClientFacts:
    ip: str | None
    user_agent: str | None
    country_code: str | None
    device: Device


@dataclass(frozen=True)
class IssuedTokens:
    session_id: str
    user_id: str
    access_token: str
    access_expires_at: int
    refresh_token: str
    #: When the refresh token stops working if unused: the idle or the absolute limit.
    refresh_expires_at: float


class SessionService:
    def __init__(
        self,
        db: Database,
        access_tokens: AccessTokens,
        shared_secrets: SharedSecrets,
        clock: Clock,
        policy: SessionPolicy,
    ) -> None:
        self._db = db
        self._access = access_tokens
        self._secrets = shared_secrets
        self._clock = clock
        self._policy = policy

    # Helpers -------------------------------------------------------------------------------
    def _alive(self, row: SessionRow, now: float) -> bool:
        return is_live(row, now, self._policy.idle_timeout)

    def _refresh_expiry(self, row: SessionRow | Rotation, now: float) -> float:
        return min(row.expires_at, now + self._policy.idle_timeout)

    async def _issue(
        self, row: SessionRow | Rotation, refresh: RefreshToken, now: float
    ) -> IssuedTokens:
        access, exp = await self._access.issue(
            user_id=row.user_id,
            session_id=row.id,
            granted_scope=row.granted_scope,
            granted_until=row.granted_until,
        )
        return IssuedTokens(
            session_id=row.id,
            user_id=row.user_id,
            access_token=access,
            access_expires_at=exp,
            refresh_token=str(refresh),
            refresh_expires_at=self._refresh_expiry(row, now),
        )

    # Operations ----------------------------------------------------------------------------
    async def create(
        self,
        *,
        user_id: str,
        jkt: str,
        auth_method: str,
        client: ClientFacts,
        newest_proof: tuple[float, str] | None = None,
        granted_scope: str | None = None,
        granted_until: float | None = None,
        new_user: NewUser | None = None,
    ) -> IssuedTokens:
        """Open a session bound to ``jkt``.

        ``new_user`` (whose id is ``user_id``) is made with it, in one transaction: a code
        login's new user. IdentifierAlreadyExists, with nothing made, when another user
        holds one of its identifiers.

        ``granted_scope`` (space-separated) is on its access tokens until ``granted_until``:
        what the login method's configuration grants, as a step-up would.

        ``newest_proof`` is the ``iat`` and ``jti`` of the proof that opened it, made the
        session's newest: the common rotation then takes no refresh proof its client
        signed before, such as one spent by a refused refresh while the key had no
        session to mark (DESIGN §3.7).
        """
        now = self._clock.now()
        session_id = new_id("ses")
        refresh = first_token(session_id)
        row = SessionRow(
            id=session_id,
            user_id=user_id,
            jkt=jkt,
            auth_method=auth_method,
            refresh_hash=hash_token(refresh),
            generation=0,
            previous_hash=None,
            rotated_at=None,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self._policy.absolute_lifetime,
            revoked_at=None,
            revoked_reason=None,
            device_type=client.device.device_type,
            device_model=client.device.device_model,
            os_version=client.device.os_version,
            browser=client.device.browser,
            country_code=client.country_code,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:512] or None,
            last_proof_iat=newest_proof[0] if newest_proof else None,
            last_proof_jti=newest_proof[1] if newest_proof else None,
            granted_scope=granted_scope,
            granted_until=granted_until if granted_scope else None,
        )
        limit = self._policy.max_sessions_per_user
        ended = await self._db.sessions.create(
            row, keep=limit, idle_since=now - self._policy.idle_timeout, new_user=new_user
        )
        LOGINS.labels(method=auth_method, result="success").inc()
        log.info("session created", extra={"session_id": session_id, "user_id": user_id})
        if ended:
            log.warning(
                "session limit reached: oldest sessions ended",
                extra={"user_id": user_id, "session_ids": ended, "limit": limit},
            )
        return await self._issue(row, refresh, now)

    async def refresh(
        self, presented: str, *, proof: ValidatedProof, replay: ReplayStore
    ) -> IssuedTokens:
        """Rotate; the grace window repeats the successor; a genuine old token revokes.

        ``proof`` has passed every check but replay. In the common case the rotation's
        own write is its replay check: it takes only a proof newer than every refresh
        proof of the key. Any other way goes through ``replay`` first (DESIGN §3.7).
        """
        now = self._clock.now()
        token = parse_token(presented)
        if token is None:
            await self._take_proof(proof, replay, now)
            _REFRESHED["forged"].inc()
            raise Unauthorized(_INVALID)
        key = await self._secrets.get(_SUCCESSOR_SECRET)
        presented_hash = hash_token(token)
        following = successor(key, token)

        async def rotate(proof_seen: tuple[float, str] | None) -> Rotation | None:
            return await self._db.sessions.rotate_live(
                token.session_id,
                generation=token.generation,
                current_hash=presented_hash,
                new_hash=hash_token(following),
                jkt=proof.jkt,
                now=now,
                idle_since=now - self._policy.idle_timeout,
                proof=proof_seen,
            )

        # The common case, a live session's current token with its key, in one statement.
        rotated = await rotate((proof.iat, proof.jti))
        if rotated is not None:
            _REFRESHED["rotated"].inc()
            return await self._issue(rotated, following, now)

        # Otherwise the proof goes through the replay store, then find out why: a proof
        # no newer than the key's last, ended, another key, the token just replaced (the
        # grace, also what concurrent refreshes with one token meet), reuse, or a forgery.
        await self._take_proof(proof, replay, now)
        row = await self._db.sessions.get(token.session_id)
        if row is not None and token.generation == row.generation:
            rotated = await rotate(None)
            if rotated is not None:
                _REFRESHED["rotated"].inc()
                return await self._issue(rotated, following, now)
            row = await self._db.sessions.get(token.session_id)  # rotated meanwhile
        if row is None or not self._alive(row, now):
            _REFRESHED["expired"].inc()
            raise Unauthorized(_INVALID)
        if row.jkt != proof.jkt:
            _REFRESHED["key_mismatch"].inc()
            raise DPoPKeyMismatch()

        if token.generation == row.generation - 1 and presented_hash == row.previous_hash:
            rotated_at = row.rotated_at if row.rotated_at is not None else now
            if (
                now - rotated_at <= self._policy.refresh_grace
                and hash_token(following) == row.refresh_hash
            ):
                await self._db.sessions.touch(row.id, now=now)
                _REFRESHED["grace"].inc()
                return await self._issue(row, following, now)

        if reaches(key, token, generation=row.generation, token_hash=row.refresh_hash):
            await self._db.sessions.revoke(row.id, reason="refresh_token_reuse", now=now)
            await self._db.audit.add(
                "refresh.reuse_detected",
                now=now,
                user_id=row.user_id,
                data={"session_id": row.id, "generation": token.generation},
            )
            _REFRESHED["reuse_revoked"].inc()
            log.warning(
                "refresh token reuse: session revoked",
                extra={
                    "session_id": row.id,
                    "user_id": row.user_id,
                    "generation": token.generation,
                },
            )
        else:
            _REFRESHED["forged"].inc()
        raise Unauthorized(_INVALID)

    async def spend_proof(self, proof: ValidatedProof, replay: ReplayStore) -> None:
        """Use up a refresh proof whose refresh was refused before its rotation (no token,
        a bad body, a step-up token refused). InvalidDPoPProof if it was used before."""
        await self._spend(proof, replay, self._clock.now())

    async def _take_proof(self, proof: ValidatedProof, replay: ReplayStore, now: float) -> None:
        """The refresh's slow path: accept ``proof`` once; never when one of its key's
        sessions took it, or may have, in the common path."""
        if not await self._spend(proof, replay, now):
            # Older than the last two refreshes: perhaps a replay. A client holding the
            # key signs a new proof.
            raise UseDPoPNonce("The DPoP proof is older than this key's last refreshes.")

    async def _spend(self, proof: ValidatedProof, replay: ReplayStore, now: float) -> bool:
        """Record ``proof`` in the replay store, then make it the newest of its key's
        sessions, so the common path, which reads only those, never takes it. False when
        it is older than the key's last two refresh proofs, which the rows cannot tell."""
        if not await replay.remember(proof.jkt, proof.jti, expires_at=proof.expires_at, now=now):
            raise InvalidDPoPProof(_REPLAYED)
        seen = await self._db.sessions.take_proof(proof.jkt, iat=proof.iat, jti=proof.jti)
        if seen:
            raise InvalidDPoPProof(_REPLAYED)
        return seen is None

    async def logout(self, presented: str | None, *, jkt: str) -> bool:
        """Revoke the session the token names; True if one was revoked."""
        token = parse_token(presented or "")
        if token is None:
            return False
        row = await self._db.sessions.get(token.session_id)
        if row is None or row.revoked_at is not None:
            return False
        if row.jkt != jkt:
            raise DPoPKeyMismatch()
        key = await self._secrets.get(_SUCCESSOR_SECRET)
        presented_hash = hash_token(token)
        genuine = presented_hash in (row.refresh_hash, row.previous_hash) or reaches(
            key, token, generation=row.generation, token_hash=row.refresh_hash
        )
        if not genuine:
            return False
        return await self._db.sessions.revoke(row.id, reason="logout", now=self._clock.now())

    async def active(self, session_id: str, user_id: str) -> SessionRow:
        """The live session behind an access token; Unauthorized once it is revoked or ended."""
        row = await self._db.sessions.get(session_id)
        if row is None or row.user_id != user_id or not self._alive(row, self._clock.now()):
            raise Unauthorized("The session has ended.")
        return row

    def ends_at(self, row: SessionRow) -> float:
        """When a listed session ends unless it is refreshed before."""
        return ends_at(row, self._policy.idle_timeout)

    async def list(self, user_id: str, *, limit: int, offset: int) -> tuple[list[SessionRow], int]:
        now = self._clock.now()
        return await self._db.sessions.list_active(
            user_id, now=now, idle_since=now - self._policy.idle_timeout, limit=limit, offset=offset
        )

    async def revoke(
        self, *, user_id: str, current_session_id: str, target: RevokeTarget, session_id: str | None
    ) -> int:
        """Revoke by target; a session id that is not the caller's is ``not_found``."""
        now = self._clock.now()
        sessions = self._db.sessions
        if target == "all":
            return await sessions.revoke_user(user_id, reason="revoke_all", now=now)
        if target == "others":
            return await sessions.revoke_user(
                user_id, reason="revoke_others", now=now, except_id=current_session_id
            )
        if target == "mine":
            return int(
                await sessions.revoke(current_session_id, reason="logout", now=now, user_id=user_id)
            )
        if not session_id:
            raise NotFound("No such session.")
        if not await sessions.revoke(
            session_id, reason="revoked_by_user", now=now, user_id=user_id
        ):
            raise NotFound("No such session.")
        return 1

    async def revoke_one(self, session_id: str, *, reason: str, user_id: str | None = None) -> bool:
        """Revoke one live session (of ``user_id`` when given); True if it was live."""
        return await self._db.sessions.revoke(
            session_id, reason=reason, now=self._clock.now(), user_id=user_id
        )

    async def revoke_user(
        self,
        user_id: str,
        *,
        reason: str,
        auth_method: str | None = None,
        except_id: str | None = None,
    ) -> int:
        return await self._db.sessions.revoke_user(
            user_id,
            reason=reason,
            now=self._clock.now(),
            auth_method=auth_method,
            except_id=except_id,
        )
