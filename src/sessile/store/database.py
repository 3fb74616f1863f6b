"""One handle on the database: the engine and a store per concept."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.api_keys import ApiKeyStore
from sessile.store.app_config import AppConfigStore
from sessile.store.audit import AuditStore
from sessile.store.challenges import ChallengeStore
from sessile.store.deliveries import DeliveryStore
from sessile.store.drivers import Driver, create_driver
from sessile.store.end_session_links import EndSessionLinkStore
from sessile.store.engine import create_engine
from sessile.store.events import EventStore
from sessile.store.identities import IdentityStore
from sessile.store.keys import SigningKeyStore
from sessile.store.login_failures import LoginFailureStore
from sessile.store.oauth_states import OAuthStateStore
from sessile.store.otp import OtpStore
from sessile.store.passwords import PasswordStore
from sessile.store.revocations import RevocationStore
from sessile.store.secrets import ServerSecretStore
from sessile.store.sessions import SessionStore
from sessile.store.sql import prepared
from sessile.store.stepup import StepUpStore
from sessile.store.user_identifiers import IdentifierStore
from sessile.store.users import UserStore
from sessile.store.webhooks import WebhookStore

__all__ = ["Database"]

_PING = prepared(lambda: sa.select(sa.literal_column("1")))


class Database:
    """The driver runs every statement of the stores; the engine serves migrations and
    the command line."""

    def __init__(
        self, engine: AsyncEngine, driver: Driver | None = None, *, timeout: float = 30.0
    ) -> None:
        self.engine = engine
        self.driver = driver or create_driver(
            engine.url.render_as_string(hide_password=False), timeout=timeout
        )
        self.users = UserStore(self.driver)
        self.passwords = PasswordStore(self.driver)
        self.sessions = SessionStore(self.driver)
        self.challenges = ChallengeStore(self.driver)
        self.keys = SigningKeyStore(self.driver)
        self.secrets = ServerSecretStore(self.driver)
        self.api_keys = ApiKeyStore(self.driver)
        self.revocations = RevocationStore(self.driver)
        self.otp = OtpStore(self.driver)
        self.login_failures = LoginFailureStore(self.driver)
        self.identities = IdentityStore(self.driver)
        self.oauth_states = OAuthStateStore(self.driver)
        self.stepup = StepUpStore(self.driver)
        self.identifiers = IdentifierStore(self.driver)
        self.deliveries = DeliveryStore(self.driver)
        self.webhooks = WebhookStore(self.driver)
        self.events = EventStore(self.driver)
        self.audit = AuditStore(self.driver)
        self.config = AppConfigStore(self.driver)
        self.end_session_links = EndSessionLinkStore(self.driver)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> Database:
        """``timeout`` bounds each statement, connection attempt and pool wait (seconds)."""
        return cls(create_engine(url, timeout=timeout), timeout=timeout)

    async def ping(self) -> None:
        """Raise if the database can't answer a trivial query."""
        await self.driver.rows(_PING.on(self.driver.dialect), {})

    async def close(self) -> None:
        await self.driver.close()
        await self.engine.dispose()
