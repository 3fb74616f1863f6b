"""Which account a provider identity reaches, and when an e-mail address links accounts.

An identity already linked reaches its user. Otherwise the provider's e-mail address may
join the identity to the account that holds the address, but only when the provider
vouches for the address *and* the operator allows it (``oauth_allow_email_account_merge``,
or ``options`` of the provider's OAuth login config).
Anything less needs a code sent to the address first (``oauth_link`` challenges,
``login/otp.py``): an unverified provider address never attaches to an existing account,
or someone could claim a victim's address at a lax provider and take the account over.
A proven link counts as a proof of the address (``login/ownership.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sessile.clock import Clock
from sessile.errors import Conflict, IdentifierAlreadyExists, InvalidIdentifier
from sessile.identifiers import normalize_email
from sessile.login.admission import admitted
from sessile.login.oauth.profile import ProviderProfile
from sessile.login.otp import OtpResult
from sessile.login.ownership import Ownership
from sessile.store.database import Database
from sessile.store.otp import OtpChallenge
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

__all__ = ["AccountLinkPolicy", "Accounts", "LinkPolicySource", "Reached", "auth_method"]

log = logging.getLogger("sessile.login")


def auth_method(provider: str) -> str:
    # The sessions column holds 20 characters; the known provider names all fit.
    return f"oauth_{provider}"[:20]


@dataclass(frozen=True)
class Reached:
    """The user the identity reaches, or the address to prove by a code before it can."""

    user_id: str | None = None
    prove: Identifier | None = None


@dataclass(frozen=True)
class AccountLinkPolicy:
    """How a provider's e-mail may reach an account (Prelude's settings of those names)."""

    oauth_use_email_as_identifier: bool
    oauth_allow_email_account_merge: bool
    oauth_verify_email: bool


#: A provider's policy now (its OAuth login config, or the settings).
LinkPolicySource = Callable[[str], Awaitable[AccountLinkPolicy]]


class Accounts:
    def __init__(
        self, db: Database, ownership: Ownership, clock: Clock, policies: LinkPolicySource
    ) -> None:
        self._db = db
        self._ownership = ownership
        self._clock = clock
        self._policies = policies

    @staticmethod
    def _email(profile: ProviderProfile, policy: AccountLinkPolicy) -> Identifier | None:
        if not profile.email or not policy.oauth_use_email_as_identifier:
            return None
        try:
            return Identifier("email_address", normalize_email(profile.email))
        except InvalidIdentifier:
            return None

    async def reach(self, profile: ProviderProfile) -> Reached:
        identity = await self._db.identities.find(profile.provider, profile.subject)
        if identity is not None:
            user = await self._db.users.get(identity.user_id)
            admitted(user)
            await self._db.identities.touch(
                profile.provider, profile.subject, now=self._clock.now()
            )
            return Reached(user_id=identity.user_id)
        policy = await self._policies(profile.provider)
        email = self._email(profile, policy)
        if email is None:
            return Reached(user_id=(await self._new_user(profile, None)).id)
        existing = await self._db.users.find_by_identifier(email)
        if existing is not None:
            if profile.email_verified and policy.oauth_allow_email_account_merge:
                admitted(existing)
                await self._attach(existing, profile, email)
                log.info(
                    "provider identity linked by verified e-mail", extra={"user_id": existing.id}
                )
                return Reached(user_id=existing.id)
            return Reached(prove=email)
        if not profile.email_verified and policy.oauth_verify_email:
            return Reached(prove=email)
        try:
            user = await self._new_user(profile, email)
        except IdentifierAlreadyExists:
            return await self.reach(profile)  # the address was taken a moment ago
        return Reached(user_id=user.id)

    async def _new_user(self, profile: ProviderProfile, email: Identifier | None) -> User:
        """A user from the provider's profile; the address proven only if it vouched for it."""
        user = await self._db.users.create(
            now=self._clock.now(),
            identifiers_=[email] if email else [],
            proven=[email] if email and profile.email_verified else [],
            profile=profile.user_profile(),
        )
        if not await self._link(user, profile):
            # Another callback for the same identity made its user first: use that one.
            await self._db.users.delete(user.id, now=self._clock.now())
            identity = await self._db.identities.find(profile.provider, profile.subject)
            if identity is None:
                raise Conflict("The sign-in raced with another; try again.")
            found = await self._db.users.get(identity.user_id)
            admitted(found)
            assert found is not None
            return found
        return user

    async def _link(self, user: User, profile: ProviderProfile) -> bool:
        return await self._db.identities.link(
            provider=profile.provider,
            subject=profile.subject,
            user_id=user.id,
            email=profile.email,
            email_verified=profile.email_verified,
            now=self._clock.now(),
        )

    async def _attach(self, user: User, profile: ProviderProfile, email: Identifier) -> None:
        """Link the identity to ``user``, whose address it proved (or a code proved)."""
        if not await self._link(user, profile):
            identity = await self._db.identities.find(profile.provider, profile.subject)
            if identity is None or identity.user_id != user.id:
                raise Conflict("This provider account is linked to another user.")
        await self._ownership.prove(user, email)

    async def complete_link(self, challenge: OtpChallenge) -> OtpResult:
        """The code proved the address: attach the identity, to a new user if none has it."""
        assert challenge.pending_identity is not None
        profile = ProviderProfile.from_json(challenge.pending_identity)
        email = Identifier(challenge.identifier_type, challenge.identifier_value)
        user = await self._db.users.find_by_identifier(email)
        if user is None:
            try:
                user = await self._db.users.create(
                    now=self._clock.now(),
                    identifiers_=[email],
                    proven=[email],
                    profile=profile.user_profile(),
                )
            except IdentifierAlreadyExists:
                user = await self._db.users.find_by_identifier(email)
                if user is None:
                    raise
        admitted(user)
        await self._attach(user, profile, email)
        log.info("provider identity linked after a code", extra={"user_id": user.id})
        return OtpResult(user.id, auth_method(profile.provider))
