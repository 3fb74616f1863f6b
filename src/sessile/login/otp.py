"""Login by one-time code (DESIGN §6): start, resend, check.

The browser holds a verification token (``<challenge id>.<secret>``, the id ``otp_…``) in a
cookie, or a native client in ``X-Verification-Token``. Codes are stored as an
HMAC under a server secret, checked in constant time, at most
``otp_max_attempts`` times per challenge; failed checks also count per identifier across
challenges (``login/lockout.py``). Starting a login answers the same whether or not an
account exists.

A password sign-up (``login/email_password.py``) is a challenge of purpose ``signup`` that
holds the password hash: its code makes the user, with the address proven. No user and no
session exist before that, so nobody can sign up with an address they don't own.

A social login whose e-mail address must be proven first (``login/oauth/``) is a challenge
of purpose ``oauth_link``, bound to the client's PKCE challenge: it is opened unsent, and
its code goes out only when ``/login/finalize`` presents the verifier, worded as what it
does ("link a Google account to yours"), never as a login code. Its completion (registered
with :meth:`OtpLogin.complete_with`) attaches the provider identity.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from sessile.clock import Clock
from sessile.config import Settings
from sessile.crypto import secret_hash
from sessile.delivery import Message, compose_link_message, compose_message, compose_notice
from sessile.delivery.base import Channel
from sessile.delivery.queue import DeliveryQueue
from sessile.errors import (
    BadCheckCode,
    IdentifierAlreadyExists,
    InvalidChallengeToken,
    RateLimited,
)
from sessile.ids import new_id
from sessile.login.admission import admitted
from sessile.login.lockout import Lockout
from sessile.login.oauth.known import provider_label
from sessile.login.oauth.profile import ProviderProfile
from sessile.login.ownership import Ownership
from sessile.login.ratelimit import RateLimits
from sessile.login.trail import login_failed
from sessile.pkce import verifier_matches
from sessile.shared_secrets import SharedSecrets
from sessile.store.database import Database
from sessile.store.otp import OtpChallenge
from sessile.store.user_identifiers import Identifier
from sessile.store.users import NewUser, User

__all__ = ["OtpLogin", "OtpResult"]

log = logging.getLogger("sessile.login")

_CODE_SECRET = "otp-code"


@dataclass(frozen=True)
class OtpResult:
    user_id: str
    auth_method: str
    #: The PKCE challenge the login was bound to, which ``/login/finalize`` then needs.
    code_challenge: str | None = None
    #: The OTP login config the login was started under (its granted scopes), if any.
    login_config_id: str | None = None
    #: The user to make, whose id is ``user_id``, when the check was asked to leave that to
    #: the session's transaction (``deferred_user``).
    new_user: NewUser | None = None


class OtpLogin:
    def __init__(
        self,
        db: Database,
        queue: DeliveryQueue,
        limits: RateLimits,
        lockout: Lockout,
        ownership: Ownership,
        shared_secrets: SharedSecrets,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._queue = queue
        self._limits = limits
        self._lockout = lockout
        self._ownership = ownership
        self._secrets = shared_secrets
        self._clock = clock
        self._settings = settings
        self._completions: dict[str, Callable[[OtpChallenge], Awaitable[OtpResult]]] = {}

    def complete_with(
        self, purpose: str, completion: Callable[[OtpChallenge], Awaitable[OtpResult]]
    ) -> None:
        """What a right code does for challenges of ``purpose``, instead of logging in."""
        self._completions[purpose] = completion

    def _new_code(self) -> str:
        return "".join(secrets.choice("0123456789") for _ in range(self._settings.otp_length))

    async def _code_hash(self, challenge_id: str, code: str) -> str:
        key = await self._secrets.get(_CODE_SECRET)
        return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _channel(identifier: Identifier) -> Channel:
        return "email" if identifier.type == "email_address" else "sms"

    def _code_message(self, identifier: Identifier, code: str) -> Message:
        return compose_message(self._settings, self._channel(identifier), identifier.value, code)

    def _challenge_message(self, challenge: OtpChallenge, code: str) -> Message:
        """The message of a code sent (again) for ``challenge``: a social login's link says
        which provider it links."""
        identifier = Identifier(challenge.identifier_type, challenge.identifier_value)
        if challenge.purpose == "oauth_link" and challenge.pending_identity:
            provider = ProviderProfile.from_json(challenge.pending_identity).provider
            return compose_link_message(
                self._settings, identifier.value, code, provider_label(provider)
            )
        return self._code_message(identifier, code)

    async def _limit_sends(self, identifier: Identifier, ip: str | None) -> None:
        """Every message sent, first or again, counts per IP and per identifier."""
        await self._limits.hit_all(
            [
                (self._settings.otp_rate_per_ip, ("otp-ip", ip or "-")),
                (
                    self._settings.otp_rate_per_identifier,
                    ("otp-id", identifier.type, identifier.value),
                ),
            ]
        )

    async def start(
        self,
        identifier: Identifier,
        *,
        ip: str | None,
        code_challenge: str | None = None,
        login_config_id: str | None = None,
    ) -> str:
        """Queue a code; return the verification token. Raises RateLimited. With
        ``code_challenge`` (PKCE S256) the login it ends in is finalized only with its
        verifier. ``login_config_id``: the OTP login config the login runs under (the caller
        chose it)."""
        await self._limit_sends(identifier, ip)
        known = await self._db.users.find_by_identifier(identifier) is not None
        deliverable = known or self._settings.otp_signup
        code = self._new_code()
        message = self._code_message(identifier, code) if deliverable else None
        return await self._open(
            identifier,
            code,
            message,
            purpose="login",
            password_hash=None,
            code_challenge=code_challenge,
            sent=True,
            login_config_id=login_config_id,
        )

    async def start_signup(
        self, identifier: Identifier, password_hash: str, *, ip: str | None
    ) -> str:
        """A pending sign-up: the code goes to the address, or, when the address already
        has an account, a notice and no code. The caller can't tell which."""
        await self._limit_sends(identifier, ip)
        known = await self._db.users.find_by_identifier(identifier) is not None
        code = self._new_code()
        message = (
            compose_notice(self._settings, identifier.value)
            if known
            else self._code_message(identifier, code)
        )
        deliverable = not known
        return await self._open(
            identifier,
            code,
            message,
            purpose="signup",
            password_hash=password_hash if deliverable else None,
            deliverable=deliverable,
        )

    async def start_link(
        self, identifier: Identifier, *, code_challenge: str, pending_identity: str
    ) -> str:
        """Open an ``oauth_link`` challenge, unsent; :meth:`pending` sends its code."""
        return await self._open(
            identifier,
            secrets.token_urlsafe(16),  # never sent: arming replaces it
            None,
            purpose="oauth_link",
            password_hash=None,
            deliverable=True,
            code_challenge=code_challenge,
            pending_identity=pending_identity,
            sent=False,
        )

    async def _open(
        self,
        identifier: Identifier,
        code: str,
        message: Message | None,
        *,
        purpose: str,
        password_hash: str | None,
        deliverable: bool | None = None,
        code_challenge: str | None = None,
        pending_identity: str | None = None,
        user_id: str | None = None,
        sent: bool = True,
        login_config_id: str | None = None,
    ) -> str:
        now = self._clock.now()
        challenge_id = new_id("otp")
        secret = secrets.token_urlsafe(32)
        expires_at = now + self._settings.otp_ttl
        # An unknown identifier's row is suppressed: the same work, sent to nobody.
        queued = self._queue.prepare(
            message, channel=self._channel(identifier), expires_at=expires_at
        )
        await self._db.otp.create(
            OtpChallenge(
                id=challenge_id,
                verification_hash=secret_hash(secret),
                identifier_type=identifier.type,
                identifier_value=identifier.value,
                code_hash=await self._code_hash(challenge_id, code),
                deliverable=message is not None if deliverable is None else deliverable,
                attempts=0,
                sends=1 if sent else 0,
                created_at=now,
                last_sent_at=now,
                expires_at=expires_at,
                consumed_at=None,
                purpose=purpose,
                password_hash=password_hash,
                code_challenge=code_challenge,
                pending_identity=pending_identity,
                user_id=user_id,
                login_config_id=login_config_id,
            ),
            queued,
        )
        self._queue.wake()
        return f"{challenge_id}.{secret}"

    async def _challenge(self, token: str | None) -> OtpChallenge:
        """The live challenge a verification token names; BadCheckCode otherwise."""
        if not token or not token.startswith("otp_") or len(token) > 200:
            raise BadCheckCode("Start the login again: no code is pending.")
        challenge_id, _, secret = token.partition(".")
        challenge = await self._db.otp.get(challenge_id)
        if challenge is None or not hmac.compare_digest(
            challenge.verification_hash, secret_hash(secret)
        ):
            raise BadCheckCode("Start the login again: no code is pending.")
        if challenge.consumed_at is not None or challenge.expires_at <= self._clock.now():
            raise BadCheckCode("The code has expired; start the login again.")
        return challenge

    async def pending(
        self, token: str, code_verifier: str | None = None, *, ip: str | None = None
    ) -> bool:
        """Whether ``token`` names a live code challenge (a sign-up awaiting its code). A
        challenge bound to a PKCE challenge needs its verifier, and sends its first code
        now."""
        try:
            challenge = await self._challenge(token)
        except BadCheckCode:
            return False
        if challenge.code_challenge is None:
            return True
        if not verifier_matches(code_verifier, challenge.code_challenge):
            raise InvalidChallengeToken("The code_verifier does not match this login.")
        await self._arm(challenge, ip)
        return True

    async def send_pending(self, token: str, *, ip: str | None) -> str:
        """Send the first code of a challenge opened unsent (a social login's address to
        prove, PRELUDE-API §2.7); its verifier is checked when the login is finalized.
        Returns the verification token, which is ``token`` itself."""
        challenge = await self._challenge(token)
        if challenge.purpose != "oauth_link":
            raise BadCheckCode("This challenge token takes no code here.")
        await self._arm(challenge, ip)
        return token

    async def _arm(self, challenge: OtpChallenge, ip: str | None) -> None:
        """Send the first code of an unsent challenge; nothing if it went out already."""
        if challenge.sends != 0:
            return
        identifier = Identifier(challenge.identifier_type, challenge.identifier_value)
        await self._limit_sends(identifier, ip)
        code = self._new_code()
        armed = await self._db.otp.arm(
            challenge.id,
            code_hash=await self._code_hash(challenge.id, code),
            now=self._clock.now(),
            message=self._queue.prepare(
                self._challenge_message(challenge, code),
                channel=self._channel(identifier),
                expires_at=challenge.expires_at,
            ),
        )
        if armed:
            self._queue.wake()

    async def resend(self, token: str | None, *, ip: str | None) -> None:
        challenge = await self._challenge(token)
        if challenge.sends == 0:
            raise BadCheckCode("Finish the login first: no code was sent yet.")
        identifier = Identifier(challenge.identifier_type, challenge.identifier_value)
        await self._limit_sends(identifier, ip)
        now = self._clock.now()
        cooldown_end = challenge.last_sent_at + self._settings.otp_resend_cooldown
        if now < cooldown_end:
            raise RateLimited(int(cooldown_end - now) + 1, "Wait a moment before asking again.")
        if challenge.sends >= self._settings.otp_max_sends:
            raise RateLimited(int(challenge.expires_at - now) + 1, "No more codes for this login.")
        code = self._new_code()
        message = self._challenge_message(challenge, code) if challenge.deliverable else None
        replaced = await self._db.otp.replace_code(
            challenge.id,
            code_hash=await self._code_hash(challenge.id, code),
            now=now,
            max_sends=self._settings.otp_max_sends,
            sent_before=now - self._settings.otp_resend_cooldown,
            message=self._queue.prepare(
                message, channel=self._channel(identifier), expires_at=challenge.expires_at
            ),
            identifier_type=identifier.type,
        )
        if not replaced:
            raise RateLimited(
                self._settings.otp_resend_cooldown, "Wait a moment before asking again."
            )
        self._queue.wake()

    async def send_code(
        self,
        identifier: Identifier,
        *,
        purpose: str,
        user_id: str,
        ip: str | None,
        deliverable: bool = True,
    ) -> str:
        """Send a code for ``user_id`` (a step-up step, or a new identifier to prove);
        return the verification token. Not ``deliverable``: send nothing, answer alike, and
        no code will ever check (an identifier someone else holds)."""
        await self._limit_sends(identifier, ip)
        code = self._new_code()
        message = self._code_message(identifier, code) if deliverable else None
        return await self._open(
            identifier, code, message, purpose=purpose, password_hash=None, user_id=user_id
        )

    async def check_code(
        self,
        token: str | None,
        code: str,
        *,
        purposes: tuple[str, ...],
        unbound_logins_only: bool = False,
    ) -> OtpChallenge:
        """Spend one attempt of a challenge of one of ``purposes``; on the right code,
        consume it and return it. Failures count against the identifier (lockout).
        ``unbound_logins_only`` refuses, unspent, a code login bound to a PKCE challenge:
        its session needs the verifier, at ``/login/finalize``."""
        challenge = await self._challenge(token)
        if challenge.purpose not in purposes:
            raise BadCheckCode("Start again: no code of this kind is pending.")
        if unbound_logins_only and challenge.purpose == "login" and challenge.code_challenge:
            raise InvalidChallengeToken(
                "This login is bound to a code_challenge: check it with /otp/check, then "
                "finalize it with its code_verifier."
            )
        identifier = Identifier(challenge.identifier_type, challenge.identifier_value)
        counted = await self._lockout.check(identifier)
        now = self._clock.now()
        expected = await self._code_hash(challenge.id, code.strip())
        unsent = challenge.sends == 0 or not challenge.deliverable
        right = hmac.compare_digest(expected, challenge.code_hash) and not unsent
        # The check is counted, and a right code spends the challenge, in one conditional
        # write: a code is never judged once the challenge's checks are spent.
        if not await self._db.otp.count_attempt(
            challenge.id, max_attempts=self._settings.otp_max_attempts, now=now, right=right
        ):
            raise BadCheckCode("Too many wrong codes; start again.")
        if not right:
            await self._lockout.failed(identifier)
            await login_failed(self._db, identifier, method="otp", now=now)
            raise BadCheckCode()
        await self._lockout.succeeded(identifier, counted=counted)
        return challenge

    async def check(
        self,
        token: str | None,
        code: str,
        *,
        unbound_logins_only: bool = False,
        deferred_user: bool = False,
    ) -> OtpResult:
        """Spend one attempt; on the right code, consume the challenge and find or make the
        user, whose identifier is now proven (or finish what the challenge's purpose
        registered, such as a social login waiting for its address).

        ``deferred_user``: a new user is not made here but returned as the result's
        ``new_user``, for the caller to make with the session in one transaction (and to
        take :meth:`made_meanwhile` when that finds the identifier taken)."""
        purposes = ("login", "signup", *self._completions)
        challenge = await self.check_code(
            token, code, purposes=purposes, unbound_logins_only=unbound_logins_only
        )
        if challenge.purpose in self._completions:
            done = await self._completions[challenge.purpose](challenge)
            return replace(done, code_challenge=challenge.code_challenge)
        identifier = Identifier(challenge.identifier_type, challenge.identifier_value)
        now = self._clock.now()
        user = await self._db.users.find_by_identifier(identifier)
        if user is None and deferred_user:
            new = NewUser(
                id=new_id("usr"),
                now=now,
                identifiers=(identifier,),
                proven=frozenset({identifier}),
                password_hash=challenge.password_hash,
            )
            return self._result(challenge, identifier, new.id, new_user=new)
        created = False
        if user is None:
            user, created = await self._create_user(identifier, challenge.password_hash, now)
        admitted(user)
        # A user this check made holds the identifier proven already, and no other login
        # method for a first proof to remove.
        if not created:
            await self._ownership.prove(user, identifier)
        return self._result(challenge, identifier, user.id)

    async def made_meanwhile(self, result: OtpResult) -> OtpResult:
        """The result of a ``deferred_user`` check whose new user could not be made: the
        user another login for the same identifier made a moment ago, instead."""
        if result.new_user is None:
            raise ValueError("the check made no deferred user")
        [identifier] = result.new_user.identifiers
        user = await self._holder(identifier)
        admitted(user)
        await self._ownership.prove(user, identifier)
        return replace(result, user_id=user.id, new_user=None)

    @staticmethod
    def _result(
        challenge: OtpChallenge,
        identifier: Identifier,
        user_id: str,
        *,
        new_user: NewUser | None = None,
    ) -> OtpResult:
        if challenge.purpose == "signup":
            return OtpResult(user_id, "password", new_user=new_user)
        method = "otp_email" if identifier.type == "email_address" else "otp_sms"
        return OtpResult(
            user_id, method, challenge.code_challenge, challenge.login_config_id, new_user
        )

    async def _create_user(
        self, identifier: Identifier, password_hash: str | None, now: float
    ) -> tuple[User, bool]:
        """The new user holding ``identifier``, proven; or the one another login for the
        same identifier made a moment ago (False: not made here)."""
        try:
            user = await self._db.users.create(
                now=now, identifiers_=[identifier], password_hash=password_hash, proven=[identifier]
            )
        except IdentifierAlreadyExists:
            return await self._holder(identifier), False
        return user, True

    async def _holder(self, identifier: Identifier) -> User:
        """The user who holds ``identifier``, made a moment ago by another login for it;
        IdentifierAlreadyExists if none does (it was taken and let go since)."""
        user = await self._db.users.find_by_identifier(identifier)
        if user is None:
            raise IdentifierAlreadyExists()
        return user
