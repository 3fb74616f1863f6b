"""Login and sign-up by e-mail and password (DESIGN §6, §12).

Login ends in a challenge token for ``/login/finalize``. Sign-up, with
``signup_verify_email`` (the default), first proves the address: it opens a code challenge
(``login/otp.py``) that holds the password hash, and answers the same whether or not the
address has an account; the code makes the user and the session. Without it, sign-up
logs in at once with the address unproven, and the owner's first code login undoes it.

Whether both are open, and their rate limits, are the password login config's
(``login/configs/password.py``, the settings without one): turned off, both answer
``forbidden``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sessile.clock import Clock
from sessile.errors import Forbidden, Unauthorized
from sessile.login.admission import may_log_in
from sessile.login.configs.password import PasswordLoginRules
from sessile.login.lockout import Lockout
from sessile.login.otp import OtpLogin
from sessile.login.passwords import Passwords
from sessile.login.ratelimit import RateLimits
from sessile.login.trail import login_failed
from sessile.sessions import ChallengeTokens
from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier

__all__ = ["EmailPasswordLogin", "PasswordLoginPolicy", "RulesSource", "SignUp"]

#: The rules in force now: the password login config, or the settings.
RulesSource = Callable[[], Awaitable[PasswordLoginRules]]

log = logging.getLogger("sessile.login")

_WRONG = "The e-mail address or password is wrong."


@dataclass(frozen=True)
class SignUp:
    """What a sign-up gives: a challenge token for finalize, or (the address still to be
    proven) the verification token of its code challenge."""

    challenge_token: str | None = None
    verification_token: str | None = None


@dataclass(frozen=True)
class PasswordLoginPolicy:
    """What sign-up reads from the settings (the rest is in :data:`RulesSource`)."""

    password_signup: bool
    signup_verify_email: bool


class EmailPasswordLogin:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        challenges: ChallengeTokens,
        limits: RateLimits,
        lockout: Lockout,
        otp: OtpLogin,
        clock: Clock,
        policy: PasswordLoginPolicy,
        rules: RulesSource,
    ) -> None:
        self._db = db
        self._passwords = passwords
        self._challenges = challenges
        self._limits = limits
        self._lockout = lockout
        self._otp = otp
        self._clock = clock
        self._policy = policy
        self._rules = rules

    async def _open_rules(self) -> PasswordLoginRules:
        rules = await self._rules()
        if not rules.enabled:
            raise Forbidden("Password login is turned off.")
        return rules

    async def login(self, identifier: Identifier, password: str, *, ip: str | None) -> str:
        """A challenge token for the right password; ``unauthorized`` for anything else, as
        Prelude's clients read wrong credentials (``invalid_password`` is the policy's)."""
        rules = await self._open_rules()
        await self._limits.hit_all(
            [
                (rules.rate_per_ip, ("pw-ip", ip or "-")),
                (rules.rate_per_identifier, ("pw-id", identifier.value)),
            ]
        )
        counted = await self._lockout.check(identifier)
        user = await self._db.users.find_by_identifier(identifier)
        # Unknown users check a dummy hash, so the answer takes as long either way.
        ok = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not ok:
            await self._lockout.failed(identifier)
            await login_failed(
                self._db,
                identifier,
                method="password",
                now=self._clock.now(),
                user_id=user.id if user else None,
            )
            raise Unauthorized(_WRONG)
        if not may_log_in(user):
            raise Unauthorized(_WRONG)
        await self._lockout.succeeded(identifier, counted=counted)
        await self._limits.clear(rules.rate_per_identifier, "pw-id", identifier.value)
        return await self._challenges.issue(user_id=user.id, auth_method="password")

    async def sign_up(self, identifier: Identifier, password: str, *, ip: str | None) -> SignUp:
        rules = await self._open_rules()
        if not self._policy.password_signup:
            raise Forbidden("Sign-up is closed.")
        await self._limits.hit(rules.rate_per_ip, "pw-ip", ip or "-")
        password_hash = await self._passwords.hash(password)
        if self._policy.signup_verify_email:
            token = await self._otp.start_signup(identifier, password_hash, ip=ip)
            return SignUp(verification_token=token)
        user = await self._db.users.create(
            now=self._clock.now(),
            identifiers_=[identifier],
            password_hash=password_hash,
            password_unproven=True,
        )
        log.info("user signed up without proof", extra={"user_id": user.id})
        token = await self._challenges.issue(user_id=user.id, auth_method="password")
        return SignUp(challenge_token=token)
