"""How a delivery is signed (PRELUDE-API §5.4): each endpoint chose its scheme when it was
created.

- ``rsassa-pss-sha256`` (the default, Prelude's current scheme): ``X-Webhook-Signature:
  rsassa-pss-sha256=<unpadded base64url>`` by a key of the app's JWKS, named in
  ``X-Webhook-Signature-Key-Id`` (:class:`sessile.keys.BodySigner`);
- ``hmac-sha256`` (Prelude's former scheme, for receivers built on it):
  ``X-Webhook-Signature: sha256=<base64 HMAC-SHA256>`` keyed by the endpoint's secret.
"""

from __future__ import annotations

from collections.abc import Callable

from sessile.keys import BodySigner
from sessile.verify._webhooks import (
    KEY_ID_HEADER,
    RSASSA_PSS_PREFIX,
    SIGNATURE_HEADER,
    sign_webhook,
)

__all__ = ["HMAC_SHA256", "RSASSA_PSS_SHA256", "SIGNATURE_SCHEMES", "signature_headers"]

RSASSA_PSS_SHA256 = "rsassa-pss-sha256"
HMAC_SHA256 = "hmac-sha256"
SIGNATURE_SCHEMES = (RSASSA_PSS_SHA256, HMAC_SHA256)


async def signature_headers(
    scheme: str, body: bytes, *, signer: BodySigner, secret: Callable[[], str]
) -> dict[str, str]:
    """The headers that sign ``body`` under ``scheme``; ``secret`` is read only for HMAC."""
    if scheme == HMAC_SHA256:
        return {SIGNATURE_HEADER: sign_webhook(secret(), body)}
    signed = await signer.sign(body)
    return {
        SIGNATURE_HEADER: RSASSA_PSS_PREFIX + signed.signature,
        KEY_ID_HEADER: signed.kid,
    }
