"""``sessile.verify.verify_webhook``: Prelude's two signatures (RSASSA-PSS by a JWKS key,
HMAC by a secret), freshness, and the JWKS cache of ``WebhookKeys``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

from sessile.clock import FixedClock
from sessile.verify import WebhookError, WebhookKeys, verify_webhook
from sessile.verify._webhooks import sign_webhook
from tests.verify.jwks_server import jwks_server
from tests.verify.keys import LocalIssuer

NOW = 1_800_000_000
BODY = json.dumps(
    {"app_id": "app", "events": [{"id": "evt_1"}], "id": "whd_1", "sent_at": NOW}
).encode()


class BodyKey:
    """An RSA key as sessile's body ring publishes one."""

    def __init__(self, kid: str | None = None) -> None:
        self.key = RSAKey.generate_key(2048, private=True)
        self.kid = kid or self.key.thumbprint()

    @property
    def jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid, "alg": "PS256", "use": "sig"}

    def sign(self, body: bytes, salt: int = 32) -> str:
        private = self.key.private_key
        assert isinstance(private, rsa.RSAPrivateKey)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
        raw = private.sign(body, pss, hashes.SHA256())
        return "rsassa-pss-sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def body_key() -> BodyKey:
    return BodyKey()


def _keys(*jwks: dict[str, Any]) -> WebhookKeys:
    return WebhookKeys(jwks={"keys": list(jwks)})


def test_the_hmac_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    expected = base64.b64encode(hmac.new(b"whsec_k", BODY, hashlib.sha256).digest()).decode()
    assert sign_webhook("whsec_k", BODY) == "sha256=" + expected


def test_a_good_hmac_delivery_verifies_with_any_current_secret() -> None:
    batch = verify_webhook(
        BODY, sign_webhook("whsec_new", BODY), ["whsec_old", "whsec_new"], now=NOW + 10,
        app_id="app",
    )  # fmt: skip
    assert (batch.id, batch.app_id, batch.sent_at) == ("whd_1", "app", NOW)
    assert batch.events == ({"id": "evt_1"},)


@pytest.mark.parametrize("salt", [32, padding.PSS.DIGEST_LENGTH, padding.PSS.MAX_LENGTH])
def test_a_good_rsassa_pss_delivery_verifies_with_the_jwks_key(
    body_key: BodyKey, salt: int
) -> None:
    keys = _keys(LocalIssuer().jwk, body_key.jwk)
    batch = verify_webhook(
        BODY, body_key.sign(BODY, salt), key_id=body_key.kid, keys=keys, now=NOW, app_id="app"
    )
    assert batch.events == ({"id": "evt_1"},)


def _refusals(body_key: BodyKey) -> list[tuple[bytes, str | None, str | None, WebhookKeys]]:
    token_key, stranger = LocalIssuer(), BodyKey(kid=body_key.kid)
    good = _keys(token_key.jwk, body_key.jwk)
    signed = body_key.sign(BODY)
    bare = signed.removeprefix("rsassa-pss-sha256=")
    return [
        # The body changed after signing.
        (BODY.replace(b"evt_1", b"evt_2"), signed, body_key.kid, good),
        # Signed by a key that is not in the JWKS (under a kid that is).
        (BODY, stranger.sign(BODY), body_key.kid, good),
        # Signed by a key the JWKS does not hold at all.
        (BODY, BodyKey().sign(BODY), "kid-nobody-published", good),
        # A kid that names the token key (EC, ES256), not an RSA signing key.
        (BODY, signed, token_key.kid, good),
        # An RSA key of the JWKS that is not for signatures, or not for PS256.
        (BODY, signed, body_key.kid, _keys({**body_key.jwk, "use": "enc"})),
        (BODY, signed, body_key.kid, _keys({**body_key.jwk, "alg": "RS256"})),
        # No key id, no signature, no prefix, a broken encoding, a foreign prefix.
        (BODY, signed, None, good),
        (BODY, None, body_key.kid, good),
        (BODY, bare, body_key.kid, good),
        (BODY, "rsassa-pss-sha256=%%%", body_key.kid, good),
        (BODY, signed.replace("rsassa-pss-sha256=", "rsassa-pss-sha512="), body_key.kid, good),
    ]


def test_forged_tampered_or_unkeyed_rsassa_pss_deliveries_are_refused(body_key: BodyKey) -> None:
    for body, signature, kid, keys in _refusals(body_key):
        with pytest.raises(WebhookError) as caught:
            verify_webhook(body, signature, key_id=kid, keys=keys, now=NOW)
        assert caught.value.code == "invalid_webhook"


@pytest.mark.parametrize(
    ("body", "signature", "now", "app_id"),
    [
        (BODY, sign_webhook("whsec_other", BODY), NOW, None),
        (BODY.replace(b"evt_1", b"evt_2"), sign_webhook("whsec_k", BODY), NOW, None),
        (BODY, sign_webhook("whsec_k", BODY).replace("sha256=", "sha1="), NOW, None),
        (BODY, None, NOW, None),
        (BODY, sign_webhook("whsec_k", BODY), NOW + 301, None),
        (BODY, sign_webhook("whsec_k", BODY), NOW - 301, None),
        (BODY, sign_webhook("whsec_k", BODY), NOW, "another-app"),
        (b"[1]", sign_webhook("whsec_k", b"[1]"), NOW, None),
    ],
)
def test_forged_tampered_stale_or_foreign_hmac_deliveries_are_refused(
    body: bytes, signature: str | None, now: int, app_id: str | None
) -> None:
    with pytest.raises(WebhookError) as caught:
        verify_webhook(body, signature, "whsec_k", now=now, app_id=app_id)
    assert caught.value.code == "invalid_webhook"


def test_a_scheme_without_its_key_material_is_refused(body_key: BodyKey) -> None:
    with pytest.raises(WebhookError):
        verify_webhook(BODY, sign_webhook("whsec_k", BODY), key_id="x", keys=_keys(), now=NOW)
    with pytest.raises(WebhookError):
        verify_webhook(BODY, body_key.sign(BODY), "whsec_k", key_id=body_key.kid, now=NOW)


def test_a_stale_rsassa_pss_delivery_is_refused(body_key: BodyKey) -> None:
    keys = _keys(body_key.jwk)
    with pytest.raises(WebhookError, match="too old"):
        verify_webhook(BODY, body_key.sign(BODY), key_id=body_key.kid, keys=keys, now=NOW + 301)


def test_the_keys_are_fetched_once_and_again_for_a_new_kid(body_key: BodyKey) -> None:
    rotated = BodyKey()
    clock = FixedClock(1000.0)
    with jwks_server({"keys": [LocalIssuer().jwk, body_key.jwk]}) as server:
        keys = WebhookKeys(jwks_url=server.url, min_refetch_interval=5, clock=clock)
        for _ in range(3):
            verify_webhook(BODY, body_key.sign(BODY), key_id=body_key.kid, keys=keys, now=NOW)
        assert server.fetches == 1
        server.document = {"keys": [body_key.jwk, rotated.jwk]}
        clock.advance(5)
        verify_webhook(BODY, rotated.sign(BODY), key_id=rotated.kid, keys=keys, now=NOW)
        assert server.fetches == 2
        # Unknown kids do not hammer the issuer: one look per floor.
        for _ in range(3):
            with pytest.raises(WebhookError):
                verify_webhook(BODY, rotated.sign(BODY), key_id="forged", keys=keys, now=NOW)
        assert server.fetches == 2


def test_webhook_keys_take_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="one of"):
        WebhookKeys()
    with pytest.raises(ValueError, match="one of"):
        WebhookKeys("https://issuer.test", jwks={"keys": []})
    assert WebhookKeys("https://issuer.test/").jwks_url == (
        "https://issuer.test/.well-known/jwks.json"
    )
