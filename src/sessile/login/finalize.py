"""``/login/finalize`` (DESIGN §6): a challenge token becomes a session bound to the key
of the proof that presents it."""

from __future__ import annotations

from sessile.errors import InvalidChallengeToken
from sessile.login.admission import admitted
from sessile.login.configs.grants import LoginGrants
from sessile.sessions import (
    ChallengeTokens,
    ClientFacts,
    IssuedTokens,
    SessionService,
    SessionStartTokens,
)
from sessile.store.users import UserStore

__all__ = ["LoginFinalizer"]


class LoginFinalizer:
    def __init__(
        self,
        challenges: ChallengeTokens,
        start_tokens: SessionStartTokens,
        users: UserStore,
        sessions: SessionService,
        grants: LoginGrants | None = None,
    ) -> None:
        self._challenges = challenges
        self._start_tokens = start_tokens
        self._users = users
        self._sessions = sessions
        self._grants = grants

    async def finalize(
        self,
        token: str,
        code_verifier: str | None,
        *,
        jkt: str,
        client: ClientFacts,
        newest_proof: tuple[float, str] | None = None,
    ) -> IssuedTokens:
        """Spend the challenge token and open a session for its user, if they may log in
        (``newest_proof``: see :meth:`SessionService.create`), with what its login method's
        config grants."""
        inner = await self._start_tokens.unwrap(token)
        if inner is None:
            raise InvalidChallengeToken("The challenge token is invalid or expired.")
        challenge = await self._challenges.redeem(inner, code_verifier)
        user = admitted(await self._users.get(challenge.user_id))
        grant = (
            await self._grants.for_login(challenge.auth_method, challenge.login_config_id)
            if self._grants
            else None
        )
        return await self._sessions.create(
            user_id=user.id,
            jkt=jkt,
            auth_method=challenge.auth_method,
            client=client,
            newest_proof=newest_proof,
            granted_scope=grant.scope if grant else None,
            granted_until=grant.until if grant else None,
        )
