"""Social login, start to finish (OAuth 2.0 RFC 6749 §4.1, PKCE RFC 7636, OpenID Connect
Core §3.1), on the wire of Prelude's SDK.

1. ``start``: the app sends its own PKCE challenge and callback page. sessile keeps a
   login under way (``state``, single use, short-lived, bound to the browser by a cookie
   holding ``binder``) and answers the provider's authorize URL, with sessile's callback,
   ``state``, a ``nonce`` and sessile's own PKCE challenge.
2. ``callback``: ``state`` is checked before anything else, then the code is exchanged and
   the provider's answer checked; the person reaches an account (``accounts.py``).
   The answer is the app's page with a challenge token bound to the app's PKCE challenge,
   with ``status=otp_required`` when the address must be proven first, or with
   ``error``/``error_description``.
3. The app's ``/login/finalize`` with the verifier makes the session.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sessile.clock import Clock
from sessile.config import Settings
from sessile.crypto import secret_hash
from sessile.errors import (
    BadRequest,
    InvalidOAuthState,
    InvalidRedirectUri,
    SessileError,
)
from sessile.login.configs.oauth import OAuthLoginConfigs
from sessile.login.oauth.accounts import Accounts, auth_method
from sessile.login.oauth.profile import ProviderError
from sessile.login.oauth.providers import Providers
from sessile.login.otp import OtpLogin
from sessile.login.ratelimit import RateLimits
from sessile.pkce import is_challenge
from sessile.sessions import ChallengeTokens
from sessile.store.database import Database
from sessile.store.oauth_states import OAuthState

__all__ = ["CALLBACK_PATH", "OAuthLogin", "Started"]

log = logging.getLogger("sessile.login")

CALLBACK_PATH = "/v1/session/login/oauth/{provider}/callback"
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def with_params(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to its query (kept as the app wrote the rest)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class Started:
    authorization_url: str
    #: The browser's binder, to keep in its cookie (unchanged if it sent one).
    binder: str


class OAuthLogin:
    def __init__(
        self,
        db: Database,
        providers: Providers,
        configs: OAuthLoginConfigs,
        accounts: Accounts,
        otp: OtpLogin,
        challenges: ChallengeTokens,
        limits: RateLimits,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._providers = providers
        self._configs = configs
        self._accounts = accounts
        self._otp = otp
        self._challenges = challenges
        self._limits = limits
        self._clock = clock
        self._settings = settings

    async def providers(self) -> list[str]:
        return await self._providers.names()

    def callback_url(self, provider: str) -> str:
        return self._settings.url(CALLBACK_PATH.format(provider=provider))

    async def _check_redirect(self, provider_name: str, redirect_uri: str) -> None:
        # Exact match only: no prefixes, no patterns (OAuth 2.0 Security BCP §4.1).
        allowed = [
            *self._settings.oauth_redirect_uris,
            *await self._configs.redirect_uris(provider_name),
        ]
        if self._settings.demo:
            allowed = [*allowed, self._settings.url("/")]  # the demo's own callback page
        if redirect_uri not in allowed:
            raise InvalidRedirectUri()

    async def start(
        self,
        provider_name: str,
        *,
        redirect_uri: str,
        code_challenge: str,
        code_challenge_method: str,
        binder: str | None,
        ip: str | None,
    ) -> Started:
        provider = await self._providers.get(provider_name)
        # Each start stores a row until it expires: bound how many one address can make.
        await self._limits.hit(self._settings.oauth_rate_per_ip, "oauth-ip", ip or "-")
        await self._check_redirect(provider_name, redirect_uri)
        if code_challenge_method != "S256":
            raise BadRequest("code_challenge_method must be S256.")
        if not is_challenge(code_challenge):
            raise BadRequest("code_challenge must be the base64url SHA-256 of a verifier.")
        if not binder or not re.fullmatch(r"[A-Za-z0-9_-]{43}", binder):
            binder = secrets.token_urlsafe(32)
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        try:
            url = await provider.authorization_url(
                redirect_uri=self.callback_url(provider_name),
                state=state,
                nonce=nonce,
                code_verifier=verifier,
            )
        except ProviderError as exc:
            raise BadRequest(exc.description) from exc
        now = self._clock.now()
        await self._db.oauth_states.create(
            OAuthState(
                state_hash=secret_hash(state),
                provider=provider_name,
                binder_hash=secret_hash(binder),
                redirect_uri=redirect_uri,
                client_code_challenge=code_challenge,
                code_verifier=verifier,
                nonce=nonce,
                created_at=now,
                expires_at=now + self._settings.oauth_state_ttl,
            )
        )
        return Started(url, binder)

    async def _spend_state(
        self, provider_name: str, state: str | None, binder: str | None
    ) -> OAuthState:
        """The login ``state`` names, spent; InvalidOAuthState for a missing, unknown, used,
        expired or foreign one. Checked before anything else in the callback."""
        if not state or len(state) > 200:
            raise InvalidOAuthState("The sign-in answer has no usable state.")
        row = await self._db.oauth_states.get(secret_hash(state))
        if row is None or row.provider != provider_name:
            raise InvalidOAuthState("This sign-in is unknown; start again.")
        if not binder or not secrets.compare_digest(row.binder_hash, secret_hash(binder)):
            log.warning("oauth state from another browser", extra={"provider": provider_name})
            raise InvalidOAuthState("This sign-in was started in another browser.")
        if not await self._db.oauth_states.consume(row.state_hash, now=self._clock.now()):
            raise InvalidOAuthState("This sign-in was already used or has expired; start again.")
        return row

    async def callback(
        self, provider_name: str, params: Mapping[str, str], binder: str | None
    ) -> str:
        """The app's page to send the browser to."""
        row = await self._spend_state(provider_name, params.get("state"), binder)
        # The list may have changed since the start, and so may the provider.
        await self._check_redirect(provider_name, row.redirect_uri)
        provider = await self._providers.get(provider_name)
        back = {"state": params["state"]}
        if params.get("error"):
            error = params["error"] if _ERROR_CODE.match(params["error"]) else "access_denied"
            description = params.get("error_description", "")[:300] or "The provider refused."
            return _failed(row, back, error, description)
        code = params.get("code")
        if not code or len(code) > 2048:
            return _failed(row, back, "invalid_request", "The provider sent no code.")
        try:
            iss = params.get("iss") or None
            if not await provider.accepts_issuer(iss):
                # RFC 9207: the answer came from another issuer (a mix-up attack), or lacks
                # the ``iss`` its provider says it always sends.
                why = (
                    "names another issuer"
                    if iss
                    else "names no issuer, though its provider sends one"
                )
                return _failed(row, back, "invalid_request", f"The answer {why}.")
            profile = await provider.fetch_profile(
                code=code,
                redirect_uri=self.callback_url(provider_name),
                code_verifier=row.code_verifier,
                nonce=row.nonce,
                form=params,
            )
            reached = await self._accounts.reach(profile)
        except ProviderError as exc:
            return _failed(row, back, exc.error, exc.description)
        except SessileError as exc:
            return _failed(row, back, "access_denied", exc.message)
        if reached.user_id is not None:
            token = await self._challenges.issue(
                user_id=reached.user_id,
                auth_method=auth_method(provider_name),
                code_challenge=row.client_code_challenge,
            )
            # ``code`` repeats the token for Prelude's validateOAuthCallback, which wants one.
            return with_params(row.redirect_uri, {**back, "challenge_token": token, "code": token})
        assert reached.prove is not None
        token = await self._otp.start_link(
            reached.prove,
            code_challenge=row.client_code_challenge,
            pending_identity=profile.to_json(),
        )
        return with_params(
            row.redirect_uri,
            {**back, "challenge_token": token, "code": token, "status": "otp_required"},
        )


def _failed(row: OAuthState, back: dict[str, str], error: str, description: str) -> str:
    """The app's page with the ``error``/``error_description`` validateOAuthCallback reads."""
    log.info("social login failed", extra={"provider": row.provider, "error": error})
    return with_params(row.redirect_uri, {**back, "error": error, "error_description": description})
