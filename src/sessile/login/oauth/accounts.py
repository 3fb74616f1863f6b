"""Which account a provider identity reaches, and when an e-mail address links accounts.

An identity already linked reaches its user. Otherwise the provider's e-mail address may
join the identity to the account that holds the address, but only when the provider
vouches for the address, the operator trusts the provider's word for it
(``trust_email_verified``, by default only for Google, Apple, Microsoft and GitHub), *and*
the operator allows it (``oauth_allow_email_account_merge``, or ``options`` of the
provider's OAuth login config). Anything less needs a code sent to the address first
(``oauth_link`` challenges, ``login/otp.py``): an unverified provider address never
attaches to an existing account, or someone could claim a victim's address at a lax
provider and take the account over. A proven link counts as a proof of the address
(``login/ownership.py``), and the account's proven addresses are told of it.

A new user made around an address that nothing proved (``oauth_verify_email`` off) has its
identity marked unproven: the address's first proof by its owner unlinks it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sessile.clock import Clock
from sessile.errors import Conflict, IdentifierAlreadyExists, InvalidIdentifier
from sessile.identifiers import normalize_email
from sessile.login.admission import admitted
from sessile.login.oauth.known import provider_label, session_auth_method
from sessile.login.oauth.profile import ProviderProfile
from sessile.login.otp import OtpResult
from sessile.login.ownership import Ownership
from sessile.notices import AccountChange, AccountNotices
from sessile.store.database import Database
from sessile.store.otp import OtpChallenge
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

__all__ = ["AccountLinkPolicy", "Accounts", "LinkPolicySource", "Reached", "auth_method"]

log = logging.getLogger("sessile.login")


def auth_method(provider: str) -> str:
    return session_auth_method(provider)


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
    #: The provider's word that an address is verified proves it (sessile's own setting).
    trust_email_verified: bool


#: A provider's policy now (its OAuth login config, or the settings).
LinkPolicySource = Callable[[str], Awaitable[AccountLinkPolicy]]


class Accounts:
    def __init__(
        self,
        db: Database,
        ownership: Ownership,
        notices: AccountNotices,
        clock: Clock,
        policies: LinkPolicySource,
    ) -> None:
        self._db = db
        self._ownership = ownership
        self._notices = notices
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
        # An untrusted provider's word proves nothing: its address is as good as unverified.
        vouched = profile.email_verified and policy.trust_email_verified
        email = self._email(profile, policy)
        if email is None:
            return Reached(user_id=(await self._new_user(profile, None, vouched=False)).id)
        existing = await self._db.users.find_by_identifier(email)
        if existing is not None:
            if vouched and policy.oauth_allow_email_account_merge:
                admitted(existing)
                await self._attach(existing, profile, email)
                log.info(
                    "provider identity linked by verified e-mail", extra={"user_id": existing.id}
                )
                return Reached(user_id=existing.id)
            return Reached(prove=email)
        if not vouched and policy.oauth_verify_email:
            return Reached(prove=email)
        try:
            user = await self._new_user(profile, email, vouched=vouched)
        except IdentifierAlreadyExists:
            return await self.reach(profile)  # the address was taken a moment ago
        return Reached(user_id=user.id)

    async def _new_user(
        self, profile: ProviderProfile, email: Identifier | None, *, vouched: bool
    ) -> User:
        """A user from the provider's profile; the address proven only if a trusted
        provider vouched for it, else the identity is unproven until the address is."""
        user = await self._db.users.create(
            now=self._clock.now(),
            identifiers_=[email] if email else [],
            proven=[email] if email and vouched else [],
            profile=profile.user_profile(),
        )
        if not await self._link(user, profile, unproven=email is not None and not vouched):
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

    async def _link(self, user: User, profile: ProviderProfile, *, unproven: bool) -> bool:
        return await self._db.identities.link(
            provider=profile.provider,
            subject=profile.subject,
            user_id=user.id,
            email=profile.email,
            email_verified=profile.email_verified,
            now=self._clock.now(),
            unproven=unproven,
        )

    async def _attach(
        self, user: User, profile: ProviderProfile, email: Identifier, *, new: bool = False
    ) -> None:
        """Link the identity to ``user``, whose address it proved (or a code proved), and
        tell the account's proven addresses unless the account is ``new``."""
        if not await self._link(user, profile, unproven=False):
            identity = await self._db.identities.find(profile.provider, profile.subject)
            if identity is None or identity.user_id != user.id:
                raise Conflict("This provider account is linked to another user.")
        await self._ownership.prove(user, email, keep=(profile.provider, profile.subject))
        if not new:
            change = AccountChange.provider_linked(provider_label(profile.provider))
            await self._notices.tell(user.id, change)

    async def complete_link(self, challenge: OtpChallenge) -> OtpResult:
        """The code proved the address: attach the identity, to a new user if none has it."""
        assert challenge.pending_identity is not None
        profile = ProviderProfile.from_json(challenge.pending_identity)
        email = Identifier(challenge.identifier_type, challenge.identifier_value)
        user = await self._db.users.find_by_identifier(email)
        new = user is None
        if user is None:
            try:
                user = await self._db.users.create(
                    now=self._clock.now(),
                    identifiers_=[email],
                    proven=[email],
                    profile=profile.user_profile(),
                )
            except IdentifierAlreadyExists:
                new = False
                user = await self._db.users.find_by_identifier(email)
                if user is None:
                    raise
        admitted(user)
        await self._attach(user, profile, email, new=new)
        log.info("provider identity linked after a code", extra={"user_id": user.id})
        return OtpResult(user.id, auth_method(profile.provider))
