"""Step-up (DESIGN §12): a session asks for a scope, proves factors step by step, and
redeems the completed challenge on ``/refresh`` for a grant on that session alone.

Each step is proven first (a code, or the password), which hands back a verification
token, then continued past with that token. Only the newest challenge token of a challenge
is current; every state change is a conditional update, so a token or step counts once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sessile.clock import Clock
from sessile.config.settings import StepKind
from sessile.dpop.proof import ValidatedProof
from sessile.errors import (
    BadCheckCode,
    ExpiredChallengeToken,
    InvalidChallengeToken,
    InvalidPassword,
    InvalidVerificationToken,
    MissingChallengeToken,
    StepBypassed,
    StepNotCompleted,
    StepNotFound,
    TokenMismatch,
    TokenReused,
    Unauthorized,
)
from sessile.ids import new_id
from sessile.login.lockout import Lockout
from sessile.login.otp import OtpLogin
from sessile.login.passwords import Passwords
from sessile.sessions import SessionService
from sessile.stepup.hook import DecisionHook
from sessile.stepup.policy import OTP_STEPS, check_metadata, configured_steps, steps_for
from sessile.stepup.tokens import CHALLENGE_TYP, VERIFICATION_TYP, BadToken, StepUpTokens
from sessile.store.database import Database
from sessile.store.session_rows import SessionRow
from sessile.store.stepup import StepUpChallenge
from sessile.store.user_identifiers import Identifier

__all__ = ["StepResult", "StepUp"]

log = logging.getLogger("sessile.stepup")

StepResult = tuple[str, str]
"""A proven step: the new challenge token and the verification token for continue."""


@dataclass(frozen=True)
class StepUpPolicy:
    """What step-up reads from the settings."""

    app_id: str
    stepup_scopes: Mapping[str, Sequence[StepKind]]
    stepup_challenge_ttl: int
    stepup_grant_ttl: int


class StepUp:
    def __init__(
        self,
        db: Database,
        tokens: StepUpTokens,
        otp: OtpLogin,
        passwords: Passwords,
        lockout: Lockout,
        sessions: SessionService,
        hook: DecisionHook | None,
        clock: Clock,
        policy: StepUpPolicy,
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._otp = otp
        self._passwords = passwords
        self._lockout = lockout
        self._sessions = sessions
        self._hook = hook
        self._clock = clock
        self._policy = policy

    # Asking ----------------------------------------------------------------------------------
    async def request(
        self,
        session: SessionRow,
        *,
        scope: Any,
        metadata: Any,
        ip: str | None,
        user_agent: str | None,
    ) -> tuple[str, str | None]:
        """``(status, challenge token)``; the status is ``continue``, ``review`` or ``block``."""
        steps = configured_steps(self._policy.stepup_scopes, scope)
        checked_metadata = check_metadata(metadata)
        user = await self._db.users.get(session.user_id)
        if user is None:
            raise Unauthorized("The session has ended.")
        status = "continue"
        if self._hook is not None:
            decision = await self._hook.decide(
                {
                    "app_id": self._policy.app_id,
                    "user_id": user.id,
                    "session_id": session.id,
                    "scope": scope,
                    "metadata": checked_metadata,
                    "ip": ip,
                    "user_agent": user_agent,
                }
            )
            status = decision.status
            steps = decision.steps or steps
        if status == "block":
            log.info("step-up blocked", extra={"session_id": session.id, "scope": scope})
            return status, None
        now = self._clock.now()
        challenge = StepUpChallenge(
            id=new_id("stp"),
            user_id=user.id,
            session_id=session.id,
            scope=scope,
            steps=steps_for(user, steps),
            metadata=checked_metadata,
            decision=status,
            position=0,
            checked=0,
            token_jti="",
            otp_id=None,
            created_at=now,
            expires_at=now + self._policy.stepup_challenge_ttl,
            redeemed_at=None,
        )
        signed = await self._tokens.challenge(challenge, checked=0, position=0)
        await self._db.stepup.create(replace(challenge, token_jti=signed.jti))
        return status, signed.token

    # Loading ---------------------------------------------------------------------------------
    async def _load(self, token: str | None) -> tuple[dict[str, Any], StepUpChallenge]:
        """The claims of a current challenge token and its challenge."""
        if not token:
            raise MissingChallengeToken()
        try:
            claims = await self._tokens.decode(token, CHALLENGE_TYP)
        except BadToken as exc:
            raise ExpiredChallengeToken() if exc.expired else InvalidChallengeToken() from exc
        challenge = await self._db.stepup.get(claims["challenge_id"])
        if challenge is None:
            raise InvalidChallengeToken()
        if challenge.expires_at <= self._clock.now():
            raise ExpiredChallengeToken()
        if claims.get("jti") != challenge.token_jti:
            raise InvalidChallengeToken("This challenge token is no longer current.")
        return claims, challenge

    async def _bound(
        self, claims: dict[str, Any], challenge: StepUpChallenge, proof: ValidatedProof
    ) -> None:
        """The proof's jti is the challenge token's, and its key the challenge's session's."""
        if proof.jti != claims.get("jti"):
            raise TokenMismatch("The DPoP proof's jti is not the challenge token's.")
        session = await self._sessions.active(challenge.session_id, challenge.user_id)
        if session.jkt != proof.jkt:
            raise TokenMismatch("The challenge belongs to another session.")

    @staticmethod
    def _require_step(challenge: StepUpChallenge, kinds: tuple[str, ...]) -> None:
        """The current step is one of ``kinds`` and not yet proven."""
        later = challenge.steps[challenge.position + 1 :]
        if challenge.completed:
            raise StepNotFound("The challenge has no steps left.")
        if challenge.checked > challenge.position:
            raise StepBypassed("This step is proven: continue the challenge before the next.")
        if challenge.current_step in kinds:
            return
        if any(step in kinds for step in later):
            raise StepBypassed()
        raise StepNotFound()

    async def _proven(self, challenge: StepUpChallenge) -> StepResult:
        signed = await self._tokens.challenge(
            challenge, checked=challenge.position + 1, position=challenge.position
        )
        if not await self._db.stepup.mark_checked(challenge, jti=signed.jti, now=self._clock.now()):
            raise InvalidChallengeToken("The challenge changed meanwhile; use the newest token.")
        verification = await self._tokens.verification(challenge, step=challenge.position)
        return signed.token, verification

    # Code steps --------------------------------------------------------------------------------
    async def send_code(self, token: str | None, *, ip: str | None) -> str:
        """Send the current code step's code; return the verification (cookie) token."""
        _claims, challenge = await self._load(token)
        self._require_step(challenge, tuple(OTP_STEPS))
        user = await self._db.users.get(challenge.user_id)
        kind = OTP_STEPS[challenge.current_step]
        proven = sorted(i.value for i in (user.proven if user else ()) if i.type == kind)
        if user is None or not proven:
            raise StepNotFound("The account has nothing to send this code to any more.")
        verification = await self._otp.send_code(
            Identifier(kind, proven[0]), purpose="stepup", user_id=user.id, ip=ip
        )
        otp_id = verification.partition(".")[0]
        if not await self._db.stepup.set_otp(challenge, otp_id, now=self._clock.now()):
            raise InvalidChallengeToken("The challenge changed meanwhile; use the newest token.")
        return verification

    async def check_code(
        self, token: str | None, code: str, *, verification: str | None, proof: ValidatedProof
    ) -> StepResult:
        claims, challenge = await self._load(token)
        await self._bound(claims, challenge, proof)
        self._require_step(challenge, tuple(OTP_STEPS))
        otp_id = (verification or "").partition(".")[0]
        if challenge.otp_id is None or otp_id != challenge.otp_id:
            raise BadCheckCode("Ask for this step's code first (POST /v1/session/otp).")
        await self._otp.check_code(verification, code, purposes=("stepup",))
        return await self._proven(challenge)

    # Password step -----------------------------------------------------------------------------
    async def check_password(
        self, token: str | None, password: str, *, proof: ValidatedProof
    ) -> StepResult:
        claims, challenge = await self._load(token)
        await self._bound(claims, challenge, proof)
        self._require_step(challenge, ("password",))
        # Failures count per user, with the same growing lockout as logins.
        key = Identifier("stepup_user", challenge.user_id)
        await self._lockout.check(key)
        user = await self._db.users.get(challenge.user_id)
        if not await self._passwords.verify(user.password_hash if user else None, password):
            await self._lockout.failed(key)
            raise InvalidPassword("The password is wrong.")
        await self._lockout.succeeded(key)
        return await self._proven(challenge)

    # Moving on and redeeming ----------------------------------------------------------------------
    async def proceed(
        self,
        session: SessionRow,
        token: str | None,
        verification_token: str | None,
        *,
        proof: ValidatedProof,
    ) -> str:
        """Move past the proven current step with its verification token; return the new
        challenge token (``current_step`` ``completed`` after the last step)."""
        claims, challenge = await self._load(token)
        if challenge.session_id != session.id:
            raise TokenMismatch("The challenge belongs to another session.")
        await self._bound(claims, challenge, proof)
        if not verification_token:
            raise InvalidVerificationToken("verification_token is required.")
        try:
            verified = await self._tokens.decode(verification_token, VERIFICATION_TYP)
        except BadToken as exc:
            raise InvalidVerificationToken() from exc
        if verified["challenge_id"] != challenge.id:
            raise TokenMismatch("The verification token is for another challenge.")
        step = verified.get("step")
        if not isinstance(step, int) or isinstance(step, bool):
            raise InvalidVerificationToken()
        if step < challenge.position:
            raise TokenReused("This step was already continued.")
        if step > challenge.position:
            raise StepBypassed()
        if challenge.checked <= challenge.position:
            raise StepNotCompleted("The current step isn't proven yet.")
        signed = await self._tokens.challenge(
            challenge, checked=challenge.checked, position=challenge.position + 1
        )
        if not await self._db.stepup.advance(challenge, jti=signed.jti, now=self._clock.now()):
            raise TokenReused("This step was already continued.")
        return signed.token

    async def redeem(self, step_up_token: str, *, session_id: str, jkt: str) -> None:
        """Spend a completed challenge once: its scope joins the session for the grant's
        lifetime. Called by ``/refresh`` before it rotates, so the new token carries it."""
        claims, challenge = await self._load(step_up_token)
        if claims.get("current_step") != "completed" or not challenge.completed:
            raise StepNotCompleted()
        if challenge.session_id != session_id:
            raise TokenMismatch("The step-up token is for another session.")
        now = self._clock.now()
        if challenge.redeemed_at is not None or not await self._db.stepup.redeem(
            challenge, now=now
        ):
            raise TokenReused("This step-up token has already been used.")
        until = now + self._policy.stepup_grant_ttl
        if not await self._db.sessions.grant(
            session_id, scope=challenge.scope, until=until, jkt=jkt, now=now
        ):
            raise Unauthorized("The refresh token is invalid, expired or revoked.")
        log.info(
            "step-up granted",
            extra={
                "session_id": session_id,
                "user_id": challenge.user_id,
                "scope": challenge.scope,
            },
        )
