"""Step-up (DESIGN §12, PRELUDE-API §3): a session asks for a scope, proves the steps its
decision names, and redeems the completed challenge on ``/refresh`` for a grant.

- ``request`` decides: ``continue`` (no step: the token it answers is already
  ``completed``, and the SDK refreshes with it), ``review`` (steps to do) or ``block``.
- A managed code step (``verify_email``, ``verify_sms``) is proven by ``/otp`` then
  ``/otp/check``, which moves the challenge on itself; the password step (a sessile
  extension) by ``/stepup/password``; an app's own step by ``/stepup/continue`` with a
  verification token its backend signed.
- The register scopes add the identifier in ``metadata.identifier`` once its code is proven,
  and the account's proven addresses are told. Naming one the account already holds proven
  adds nothing: its code proves the user holds it still, which the account's oldest proven
  identifier needs before a session may remove it (``stepup/account.py``).
- An account that an unproven claim made (``login/ownership.py``) gets none of the scopes
  that change identifiers or passwords until its address is proven: whatever they added
  would outlive the owner's first proof.
- ``redeem`` grants the scope by the challenge's grant mode: to this session
  (``session-bound``), to every live session of the user (``profile-bound``), or to the
  one access token the redeeming refresh returns (``single-use``).

Only the newest challenge token of a challenge is current; every state change is a
conditional update, so a token or a step counts once. The calls that prove a step carry a
DPoP proof by the session's key whose ``jti`` is the challenge token's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

from sessile.clock import Clock
from sessile.dpop.proof import ValidatedProof
from sessile.errors import (
    AuthBlocked,
    BadCheckCode,
    Conflict,
    ExpiredChallengeToken,
    IdentifierAlreadyExists,
    InvalidChallengeToken,
    InvalidMetadata,
    InvalidPassword,
    MissingChallengeToken,
    ScopeNotAllowed,
    StepBypassed,
    StepNotCompleted,
    StepNotFound,
    StepUpNotConfigured,
    TokenMismatch,
    TokenReused,
    Unauthorized,
)
from sessile.identifiers import parse_identifier
from sessile.ids import new_id
from sessile.live_config import LiveConfig
from sessile.login.admission import may_log_in
from sessile.login.lockout import Lockout
from sessile.login.otp import OtpLogin
from sessile.login.ownership import Ownership
from sessile.login.passwords import Passwords
from sessile.notices import AccountChange, AccountNotices
from sessile.sessions import SessionService
from sessile.stepup.config import (
    MANAGED_STEPS,
    REGISTER_SCOPES,
    REGISTER_STEPS,
    Decision,
    Step,
    StepUpConfig,
    default_config,
    direct_decision,
)
from sessile.stepup.custom_steps import VerificationTokens
from sessile.stepup.hook import DelegationHook, HookRequest
from sessile.stepup.policy import IDENTIFIER_KEY, check_metadata, check_steps
from sessile.stepup.tokens import BadToken, StepUpTokens
from sessile.store.database import Database
from sessile.store.session_rows import SessionRow
from sessile.store.stepup import ChallengeStep, StepUpChallenge
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

__all__ = ["CONFIG_NAME", "Grant", "RequestFacts", "StepUp", "StepUpPolicy"]

log = logging.getLogger("sessile.stepup")

#: The live configuration document of step-up (``…/config/stepup``).
CONFIG_NAME = "stepup"
_CODE_STEPS = ("verify_email", "verify_sms")
#: The scopes that change how the account is reached (PRELUDE-API §3.4).
ACCOUNT_SCOPES = frozenset({*REGISTER_SCOPES, "prld:pwd:write", "prld:passkey:write"})


@dataclass(frozen=True)
class StepUpPolicy:
    """What step-up reads from the settings: its defaults with no stored document."""

    stepup_scopes: dict[str, list[str]]
    stepup_challenge_ttl: int
    stepup_grant_ttl: int
    stepup_hook_url: str | None
    stepup_jwks_url: str | None
    otp_ttl: int
    access_token_ttl: int


@dataclass(frozen=True)
class RequestFacts:
    """Where a step-up request comes from: the hook's ``signals``."""

    ip: str | None
    user_agent: str | None
    platform: str


@dataclass(frozen=True)
class Grant:
    """A redeemed challenge: which session got which scope, and how."""

    session_id: str
    scope: str
    grant_mode: str


class StepUp:
    def __init__(
        self,
        db: Database,
        tokens: StepUpTokens,
        otp: OtpLogin,
        passwords: Passwords,
        lockout: Lockout,
        sessions: SessionService,
        ownership: Ownership,
        notices: AccountNotices,
        live: LiveConfig,
        hook: DelegationHook,
        verification_tokens: VerificationTokens,
        clock: Clock,
        policy: StepUpPolicy,
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._otp = otp
        self._passwords = passwords
        self._lockout = lockout
        self._sessions = sessions
        self._ownership = ownership
        self._notices = notices
        self._live = live
        self._hook = hook
        self._verification_tokens = verification_tokens
        self._clock = clock
        self._policy = policy
        self._default = default_config(
            policy.stepup_scopes,
            grant_ttl=policy.stepup_grant_ttl,
            hook_url=policy.stepup_hook_url,
            jwks_url=policy.stepup_jwks_url,
        )
        self._parsed: tuple[int, StepUpConfig] | None = None

    # Configuration ---------------------------------------------------------------------------
    async def config(self) -> StepUpConfig:
        """The stored configuration, or the settings' when none is stored."""
        document = await self._live.get(CONFIG_NAME)
        if document is None:
            return self._default
        if self._parsed is None or self._parsed[0] != document.version:
            self._parsed = (document.version, StepUpConfig.model_validate(document.value))
        return self._parsed[1]

    # Asking ----------------------------------------------------------------------------------
    async def request(
        self, session: SessionRow, *, scope: Any, metadata: Any, facts: RequestFacts
    ) -> tuple[Literal["continue", "review", "block"], str | None]:
        """``(status, challenge token)``: ``continue`` with a completed token, ``review``
        with the first step current, or ``block`` with none."""
        config = await self.config()
        if not config.allowed_scopes:
            raise StepUpNotConfigured()
        entries = config.entries(scope)
        if not entries:
            raise ScopeNotAllowed(f"The scope {str(scope)[:100]!r} is not configured for step-up.")
        register = scope in REGISTER_SCOPES
        checked = check_metadata(metadata, register=register)
        user = await self._db.users.get(session.user_id)
        if user is None:
            raise Unauthorized("The session has ended.")
        if not may_log_in(user):
            raise AuthBlocked("This account is disabled.")
        if scope in ACCOUNT_SCOPES and await self._ownership.unproven(user):
            raise AuthBlocked("Prove this account's address first: log in with a code sent to it.")
        if register:
            checked[IDENTIFIER_KEY] = await self._identifier_to_register(user, scope, checked)
            decision = Decision(
                "review",
                (
                    Step(
                        order=1, key=REGISTER_STEPS[scope], expiration_duration=self._policy.otp_ttl
                    ),
                ),
                # Session-bound, so that the scope also lets this session remove an
                # identifier of its type for a while (a sessile extension).
                grant_mode="session-bound",
                granted_for=self._policy.stepup_grant_ttl,
            )
        elif entries[0].mode == "delegated":
            delegated = entries[0].delegated
            assert delegated is not None  # the model requires it in this mode
            decision = await self._hook.decide(
                delegated.delegation_hook,
                HookRequest(
                    scope=scope,
                    user_id=user.id,
                    identifiers=sorted((i.type, i.value) for i in user.identifiers),
                    user_agent=facts.user_agent,
                    platform=facts.platform,
                    ip=facts.ip,
                    metadata=checked,
                ),
            )
        else:
            found = direct_decision(entries, {i.type for i in user.proven})
            if found is None:
                raise AuthBlocked("No step-up of this scope fits this account's identifiers.")
            decision = found
        if decision.status == "block":
            log.info("step-up blocked", extra={"session_id": session.id, "scope": scope})
            return "block", None
        if not register:
            check_steps(user, decision.steps)
        token = await self._open(session, scope, checked, decision)
        return ("review" if decision.steps else "continue"), token

    async def _identifier_to_register(
        self, user: User, scope: str, metadata: dict[str, str]
    ) -> str:
        """The normalised identifier a register scope adds, or proves again when the user
        holds it proven. One the user holds unproven is a conflict; one another account
        holds is accepted alike, and its code never sent."""
        value = metadata.get(IDENTIFIER_KEY)
        if not value:
            raise InvalidMetadata("metadata.identifier is required for this scope.")
        identifier = parse_identifier({"type": REGISTER_SCOPES[scope], "value": value})
        if identifier in user.identifiers and identifier not in user.proven:
            raise Conflict("This identifier is already on your account.")
        return identifier.value

    async def _open(
        self, session: SessionRow, scope: str, metadata: dict[str, str], decision: Decision
    ) -> str:
        now = self._clock.now()
        challenge = StepUpChallenge(
            id=new_id("stp"),
            user_id=session.user_id,
            session_id=session.id,
            scope=scope,
            steps=tuple(ChallengeStep(s.key, s.expiration_duration) for s in decision.steps),
            metadata=metadata,
            grant_mode=decision.grant_mode,
            granted_for=decision.granted_for,
            position=0,
            token_jti="",
            otp_id=None,
            created_at=now,
            step_started_at=now,
            expires_at=now + self._policy.stepup_challenge_ttl,
        )
        signed = await self._tokens.challenge(challenge)
        challenge = replace(challenge, token_jti=signed.jti)
        await self._db.stepup.create(challenge)
        return signed.token

    # Loading ---------------------------------------------------------------------------------
    async def _load(self, token: str | None) -> tuple[dict[str, Any], StepUpChallenge]:
        """The claims of a current challenge token and its challenge."""
        if not token:
            raise MissingChallengeToken()
        try:
            claims = await self._tokens.decode(token)
        except BadToken as exc:
            raise ExpiredChallengeToken() if exc.expired else InvalidChallengeToken() from exc
        challenge = await self._db.stepup.get(claims["challenge_id"])
        if challenge is None:
            raise InvalidChallengeToken()
        if challenge.step_deadline() <= self._clock.now():
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
    def _require_step(challenge: StepUpChallenge, keys: tuple[str, ...]) -> None:
        """The current step is one of ``keys``."""
        if challenge.completed:
            raise StepNotFound("The challenge has no steps left.")
        if challenge.current_step in keys:
            return
        if any(step.key in keys for step in challenge.steps[challenge.position + 1 :]):
            raise StepBypassed()
        raise StepNotFound()

    async def _advance(self, challenge: StepUpChallenge) -> str:
        """The current step is proven: a token for the next one (or ``completed``)."""
        now = self._clock.now()
        moved = replace(challenge, position=challenge.position + 1, step_started_at=now)
        signed = await self._tokens.challenge(moved)
        if not await self._db.stepup.advance(challenge, jti=signed.jti, now=now):
            raise TokenReused("This step was already completed; use the newest token.")
        log.info(
            "step-up step proven",
            extra={
                "challenge_id": challenge.id,
                "step": challenge.current_step,
                "completed": moved.completed,
            },
        )
        return signed.token

    # Code steps ------------------------------------------------------------------------------
    def _code_target(self, challenge: StepUpChallenge, user: User | None) -> Identifier:
        kind = MANAGED_STEPS[challenge.current_step]
        assert kind is not None  # a code step
        if challenge.scope in REGISTER_SCOPES:
            return Identifier(kind, str(challenge.metadata[IDENTIFIER_KEY]))
        proven = sorted(i.value for i in (user.proven if user else ()) if i.type == kind)
        if user is None or not proven:
            raise StepNotFound("The account has nothing to send this code to any more.")
        return Identifier(kind, proven[0])

    async def send_code(self, token: str | None, *, ip: str | None) -> str:
        """Send the current code step's code; return the verification token (the cookie,
        or ``X-Verification-Token``)."""
        _claims, challenge = await self._load(token)
        self._require_step(challenge, _CODE_STEPS)
        user = await self._db.users.get(challenge.user_id)
        target = self._code_target(challenge, user)
        deliverable = True
        if challenge.scope in REGISTER_SCOPES:
            # Someone else's identifier gets nothing, and the caller the same answer.
            holder = await self._db.users.find_by_identifier(target)
            deliverable = holder is None or holder.id == challenge.user_id
        verification = await self._otp.send_code(
            target,
            purpose="stepup",
            user_id=challenge.user_id,
            ip=ip,
            deliverable=deliverable,
        )
        otp_id = verification.partition(".")[0]
        if not await self._db.stepup.set_otp(challenge, otp_id, now=self._clock.now()):
            raise InvalidChallengeToken("The challenge changed meanwhile; use the newest token.")
        return verification

    async def check_code(
        self, token: str | None, code: str, *, verification: str | None, proof: ValidatedProof
    ) -> str:
        """Prove the current code step; the challenge moves on. For a register scope the
        identifier joins the account, proven. Returns the new challenge token."""
        claims, challenge = await self._load(token)
        await self._bound(claims, challenge, proof)
        self._require_step(challenge, _CODE_STEPS)
        otp_id = (verification or "").partition(".")[0]
        if challenge.otp_id is None or otp_id != challenge.otp_id:
            raise BadCheckCode("Ask for this step's code first (POST /v1/session/otp).")
        await self._otp.check_code(verification, code, purposes=("stepup",))
        if challenge.scope in REGISTER_SCOPES:
            await self._register(challenge)
        return await self._advance(challenge)

    async def _register(self, challenge: StepUpChallenge) -> None:
        kind = REGISTER_SCOPES[challenge.scope]
        identifier = Identifier(kind, str(challenge.metadata[IDENTIFIER_KEY]))
        try:
            added = await self._db.identifiers.add(
                challenge.user_id, identifier, now=self._clock.now(), proven=True
            )
        except IdentifierAlreadyExists as exc:
            holder = await self._db.users.find_by_identifier(identifier)
            if holder is not None and holder.id == challenge.user_id:
                return  # proven again: nothing to add, nothing to tell
            raise Conflict("This identifier belongs to another account.") from exc
        if not added:
            raise Unauthorized("The session has ended.")
        log.info(
            "identifier added by step-up",
            extra={"user_id": challenge.user_id, "identifier_type": kind},
        )
        await self._notices.tell(challenge.user_id, AccountChange.identifier_added(identifier))

    # Password step ---------------------------------------------------------------------------
    async def check_password(
        self, token: str | None, password: str, *, proof: ValidatedProof
    ) -> str:
        claims, challenge = await self._load(token)
        await self._bound(claims, challenge, proof)
        self._require_step(challenge, ("verify_password",))
        # Failures count per user, with the same growing lockout as logins.
        key = Identifier("stepup_user", challenge.user_id)
        counted = await self._lockout.check(key)
        user = await self._db.users.get(challenge.user_id)
        if not await self._passwords.verify(user.password_hash if user else None, password):
            await self._lockout.failed(key)
            raise InvalidPassword("The password is wrong.")
        await self._lockout.succeeded(key, counted=counted)
        return await self._advance(challenge)

    # The app's own steps ---------------------------------------------------------------------
    async def proceed(
        self,
        session: SessionRow,
        token: str | None,
        verification_token: str | None,
        *,
        proof: ValidatedProof,
    ) -> str:
        """Move past the app's own current step with the verification token its backend
        signed; return the new challenge token (``completed`` after the last step)."""
        claims, challenge = await self._load(token)
        if challenge.session_id != session.id:
            raise TokenMismatch("The challenge belongs to another session.")
        await self._bound(claims, challenge, proof)
        if challenge.completed:
            raise StepNotFound("The challenge has no steps left.")
        if challenge.current_step in MANAGED_STEPS:
            raise StepNotCompleted(
                "This step is proven by sessile itself (a code, or the password), "
                "not by a verification token."
            )
        config = await self.config()
        await self._verification_tokens.check(
            verification_token or "", jwks_url=config.jwks_url, challenge=challenge
        )
        return await self._advance(challenge)

    # Redeeming -------------------------------------------------------------------------------
    async def redeem(self, step_up_token: str, *, session_id: str, jkt: str) -> Grant:
        """Spend a completed challenge once, for the session it was asked in and held by
        the refresh's key (checked before anything is spent, and again by the spending
        statement itself): its scope joins the session (or every session of the user) for
        the grant's lifetime. Called by ``/refresh`` before it rotates, so the new token
        carries it."""
        claims, challenge = await self._load(step_up_token)
        if claims.get("current_step") != "completed" or not challenge.completed:
            raise StepNotCompleted()
        if challenge.session_id != session_id:
            raise TokenMismatch("The step-up token is for another session.")
        session = await self._sessions.active(session_id, challenge.user_id)
        if session.jkt != jkt:
            raise TokenMismatch("The step-up token is for another session.")
        if challenge.redeemed_at is not None:
            raise TokenReused("This step-up token has already been used.")
        now = self._clock.now()
        # The spend itself requires the session live and held by jkt, as checked above.
        if not await self._db.stepup.redeem(challenge, jkt=jkt, now=now):
            # Why: spent meanwhile, run out meanwhile, or its session ended meanwhile.
            spent = await self._db.stepup.get(challenge.id)
            if spent is not None and spent.redeemed_at is not None:
                raise TokenReused("This step-up token has already been used.")
            if challenge.expires_at <= now:
                raise ExpiredChallengeToken()
            raise Unauthorized("The refresh token is invalid, expired or revoked.")
        lasts = challenge.granted_for
        if challenge.grant_mode == "single-use":
            # Only the access token this refresh returns carries it.
            lasts = max(lasts, self._policy.access_token_ttl)
        until = now + lasts
        if not await self._db.sessions.grant(
            session_id, scope=challenge.scope, until=until, jkt=jkt, now=now
        ):
            raise Unauthorized("The refresh token is invalid, expired or revoked.")
        if challenge.grant_mode == "profile-bound":
            await self._db.sessions.grant_user(
                challenge.user_id, scope=challenge.scope, until=until, now=now
            )
        log.info(
            "step-up granted",
            extra={
                "session_id": session_id,
                "user_id": challenge.user_id,
                "scope": challenge.scope,
                "grant_mode": challenge.grant_mode,
            },
        )
        return Grant(session_id, challenge.scope, challenge.grant_mode)

    async def settle(self, grant: Grant) -> None:
        """After the redeeming refresh: a single-use grant leaves the session."""
        if grant.grant_mode == "single-use":
            await self._db.sessions.clear_grant(grant.session_id, scope=grant.scope)

    async def consume(self, session_id: str, scope: str) -> None:
        """The change a reserved scope allows was made: the grant is spent."""
        await self._db.sessions.clear_grant(session_id, scope=scope)
