"""Everything a running server holds: settings, clock, database, key ring, tokens."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sessile import event_types
from sessile.access_tokens import AccessTokens
from sessile.api_keys import ApiKeys
from sessile.audit_trail import AuditTrail
from sessile.claims import combined, identity_claims_from
from sessile.cleanup import purge_expired
from sessile.clock import Clock, SystemClock
from sessile.config import Settings
from sessile.config.policies import policy_from
from sessile.crypto import load_or_create_secret
from sessile.custom_claims import CustomClaims
from sessile.delivery import create_sender
from sessile.delivery.queue import DeliveryQueue
from sessile.dpop import ReplayStore
from sessile.events import egress
from sessile.events.endpoints import EndpointPolicy, Webhooks
from sessile.events.worker import WebhookPolicy, WebhookWorker
from sessile.keys import BodyKeyRing, BodySigner, KeyRing
from sessile.live_config import LiveConfig
from sessile.login.code_login import CodeLogin
from sessile.login.configs import LoginConfigs
from sessile.login.email_password import EmailPasswordLogin, PasswordLoginPolicy
from sessile.login.finalize import LoginFinalizer
from sessile.login.lockout import Lockout, LockoutPolicy
from sessile.login.oauth.accounts import Accounts
from sessile.login.oauth.flow import OAuthLogin
from sessile.login.oauth.providers import Providers
from sessile.login.otp import OtpLogin
from sessile.login.ownership import Ownership
from sessile.login.passwords import Passwords
from sessile.login.ratelimit import RateLimits
from sessile.notices import AccountNotices, EndSessionLinks, NoticeTexts
from sessile.notices.links import END_SESSIONS_PATH, LinkPolicy
from sessile.sessions import ChallengeTokens, SessionPolicy, SessionService, SessionStartTokens
from sessile.sessions.client_info import ClientLocator
from sessile.sessions.revocation_feed import RevocationFeed
from sessile.shared_secrets import SharedSecrets
from sessile.stepup import AccountChanges, StepUp, StepUpTokens
from sessile.stepup.custom_steps import VerificationTokens
from sessile.stepup.hook import DelegationHook, HookRequest, Reason
from sessile.stepup.service import StepUpPolicy
from sessile.store.database import Database
from sessile.store.purge import one_node_at_a_time
from sessile.store.replay import create_replay_store
from sessile.users import UserService

__all__ = ["AppContext"]

log = logging.getLogger("sessile.maintenance")


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    db: Database
    shared_secrets: SharedSecrets
    ring: KeyRing
    #: The RSA keys that sign outgoing bodies (webhook deliveries, hook requests).
    body_keys: BodyKeyRing
    body_signer: BodySigner
    access_tokens: AccessTokens
    #: The DPoP replay cache (RFC 9449 §11.1), shared by every worker and node.
    replay: ReplayStore
    sessions: SessionService
    users: UserService
    api_keys: ApiKeys
    audit: AuditTrail
    revocation_feed: RevocationFeed
    challenges: ChallengeTokens
    finalizer: LoginFinalizer
    #: The standalone code login: ``/otp/check`` answers a session-start token.
    code_login: CodeLogin
    locator: ClientLocator
    passwords: Passwords
    #: Every message (codes, notices) goes through here: queued, then sent by its worker.
    sender: DeliveryQueue
    otp: OtpLogin
    email_password: EmailPasswordLogin
    lockout: Lockout
    ownership: Ownership
    stepup: StepUp
    account: AccountChanges
    limits: RateLimits
    oauth: OAuthLogin
    #: The links in account notices that end every session of an account.
    end_session_links: EndSessionLinks
    #: Signs and posts lifecycle events to the app's webhook endpoints.
    webhooks: WebhookWorker
    #: The app's webhook endpoints: registration, activation, dead letters.
    endpoints: Webhooks
    #: The server's own secret (key material for what it encrypts at rest).
    server_secret: bytes
    #: The claims mapping of access tokens (``…/config/claims``).
    custom_claims: CustomClaims
    #: The ``…/config/…`` documents, read again by every node within seconds.
    live_config: LiveConfig
    #: The OTP, OAuth and password login configs (``…/config/login/…``).
    login_configs: LoginConfigs

    async def maintain(self) -> None:
        """Scheduled work: key rotation, and dropping rows nothing can need any more.

        Every node reloads its key ring; the clean-up runs on one node at a time (the
        others skip the round), in bounded batches (sessile.cleanup).
        """
        await self.ring.ensure()
        await self.body_keys.ensure()
        async with one_node_at_a_time(self.db.driver) as mine:
            if not mine:
                return
            now = self.clock.now()
            counts = await purge_expired(self.db.driver, self.settings, now)
            counts["sessions"] = await self.db.sessions.purge_ended(
                before=now - self.settings.session_retention,
                idle_timeout=self.settings.session_idle_timeout,
                batch_size=self.settings.session_purge_batch,
                max_batches=self.settings.session_purge_max_batches,
            )
        purged = {name: count for name, count in counts.items() if count}
        if purged:
            log.info("expired rows purged", extra={"counts": purged})

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> AppContext:
        clock = clock or SystemClock()
        server_secret = load_or_create_secret(
            settings.secret_key.get_secret_value() if settings.secret_key else None,
            settings.data_dir,
        )
        db = Database.from_url(settings.sqlalchemy_url, timeout=settings.database_timeout)
        ring = KeyRing(
            db.keys,
            server_secret,
            clock,
            token_lifetime=settings.access_token_ttl,
            publish_delay=settings.publish_delay,
            rotation_interval=settings.key_rotation_interval,
        )
        body_keys = BodyKeyRing(
            db.keys,
            server_secret,
            clock,
            publish_delay=settings.publish_delay,
            rotation_interval=settings.key_rotation_interval,
        )
        body_signer = BodySigner(body_keys)
        shared_secrets = SharedSecrets(db.secrets, server_secret, clock)
        live_config = LiveConfig(db.config, clock, max_age=settings.live_config_max_age)
        custom_claims = CustomClaims(live_config, db.users, db.sessions)
        login_configs = LoginConfigs.build(live_config, clock, server_secret, settings)
        access_tokens = AccessTokens(
            ring,
            clock,
            issuer=settings.issuer,
            audience=settings.token_audience,
            ttl=settings.access_token_ttl,
            user_claims=(
                combined(identity_claims_from(db.users), custom_claims)
                if settings.token_identity_claims
                else custom_claims
            ),
        )
        policy = SessionPolicy(
            idle_timeout=settings.session_idle_timeout,
            absolute_lifetime=settings.session_absolute_lifetime,
            refresh_grace=settings.refresh_grace,
            max_sessions_per_user=settings.max_sessions_per_user,
        )
        passwords = Passwords.from_settings(settings, current=login_configs.password.policy)
        audit = AuditTrail(db.audit, clock)
        challenges = ChallengeTokens(db.challenges, clock)
        limits = RateLimits(
            db.driver,
            settings.redis_url,
            prefix=f"sessile:{settings.app_id}",
            timeout=settings.database_timeout,
        )
        sender = DeliveryQueue(
            db.deliveries,
            create_sender(settings),
            server_secret,
            clock,
            max_attempts=settings.delivery_max_attempts,
        )
        sessions = SessionService(db, access_tokens, shared_secrets, clock, policy)
        lockout = Lockout(db.login_failures, clock, LockoutPolicy.from_settings(settings))
        ownership = Ownership(db, sessions, clock)
        end_session_links = EndSessionLinks(
            db.end_session_links,
            sessions,
            clock,
            LinkPolicy(page_url=settings.url(END_SESSIONS_PATH), ttl=settings.notice_link_ttl),
        )
        notices = AccountNotices(
            db.users, end_session_links, sender, policy_from(settings, NoticeTexts)
        )
        otp = OtpLogin(db, sender, limits, lockout, ownership, shared_secrets, clock, settings)
        accounts = Accounts(db, ownership, notices, clock, login_configs.oauth.link_policy)
        otp.complete_with("oauth_link", accounts.complete_link)
        oauth = OAuthLogin(
            db,
            Providers(login_configs.oauth),
            login_configs.oauth,
            accounts,
            otp,
            challenges,
            limits,
            clock,
            settings,
        )
        replay = create_replay_store(settings, db.driver)
        # The app's hook and JWKS are URLs a key holder chose: public addresses only.
        outbound = egress.client(
            timeout=settings.stepup_hook_timeout, allow_private=settings.event_allow_private_urls
        )

        async def hook_failed(request: HookRequest, reason: Reason) -> None:
            await db.events.record(
                event_types.STEP_UP_HOOK_FAILED,
                user_id=request.user_id,
                payload={"reason": reason, "scope_requested": request.scope},
                now=clock.now(),
            )

        stepup = StepUp(
            db,
            StepUpTokens(ring, clock, issuer=settings.issuer),
            otp,
            passwords,
            lockout,
            sessions,
            ownership,
            notices,
            live_config,
            DelegationHook(
                body_signer,
                outbound,
                timeout=settings.stepup_hook_timeout,
                default=settings.stepup_hook_default,
                default_granted_for=settings.stepup_grant_ttl,
                on_failure=hook_failed,
            ),
            VerificationTokens(
                replay,
                clock,
                outbound,
                timeout=settings.stepup_hook_timeout,
            ),
            clock,
            StepUpPolicy(
                stepup_scopes={k: list(v) for k, v in settings.stepup_scopes.items()},
                stepup_challenge_ttl=settings.stepup_challenge_ttl,
                stepup_grant_ttl=settings.stepup_grant_ttl,
                stepup_hook_url=(
                    settings.stepup_hook_url if settings.stepup_mode == "delegated" else None
                ),
                stepup_jwks_url=settings.stepup_jwks_url,
                otp_ttl=settings.otp_ttl,
                access_token_ttl=settings.access_token_ttl,
            ),
        )
        start_tokens = SessionStartTokens(challenges, ring, clock, issuer=settings.issuer)
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            shared_secrets=shared_secrets,
            ring=ring,
            body_keys=body_keys,
            body_signer=body_signer,
            access_tokens=access_tokens,
            replay=replay,
            sessions=sessions,
            users=UserService(db, passwords, sessions, clock),
            api_keys=ApiKeys(db.api_keys, audit, clock),
            audit=audit,
            revocation_feed=RevocationFeed(db.revocations, clock),
            challenges=challenges,
            finalizer=LoginFinalizer(
                challenges, start_tokens, db.users, sessions, login_configs.grants
            ),
            code_login=CodeLogin(otp, start_tokens),
            passwords=passwords,
            sender=sender,
            otp=otp,
            email_password=EmailPasswordLogin(
                db,
                passwords,
                challenges,
                limits,
                lockout,
                otp,
                clock,
                policy_from(settings, PasswordLoginPolicy),
                login_configs.password.rules,
            ),
            lockout=lockout,
            ownership=ownership,
            stepup=stepup,
            account=AccountChanges(db, passwords, sessions, ownership, notices, clock, settings),
            limits=limits,
            oauth=oauth,
            end_session_links=end_session_links,
            webhooks=WebhookWorker(
                db.events,
                db.webhooks,
                server_secret,
                body_signer,
                clock,
                WebhookPolicy(
                    app_id=settings.app_id,
                    batch_size=settings.event_batch_size,
                    timeout=settings.event_timeout,
                    backoff_base=settings.event_backoff_base,
                    backoff_max=settings.event_backoff_max,
                    retry_horizon=settings.event_retry_horizon,
                    allow_private_urls=settings.event_allow_private_urls,
                ),
            ),
            endpoints=Webhooks(
                db.webhooks,
                db.events,
                server_secret,
                clock,
                EndpointPolicy(
                    app_id=settings.app_id,
                    timeout=settings.event_timeout,
                    allow_private_urls=settings.event_allow_private_urls,
                ),
            ),
            server_secret=server_secret,
            custom_claims=custom_claims,
            live_config=live_config,
            login_configs=login_configs,
            locator=ClientLocator(
                settings.trusted_proxies, settings.country_header, settings.geoip_db
            ),
        )
