"""``sessile.verify.verify_webhook``: Prelude's ``sha256=`` signature, freshness, rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from sessile.verify import WebhookError, verify_webhook
from sessile.verify._webhooks import sign_webhook

NOW = 1_800_000_000
BODY = json.dumps(
    {"id": "whd_1", "app_id": "app", "sent_at": NOW, "events": [{"id": "evt_1"}]}
).encode()


def test_the_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    expected = base64.b64encode(hmac.new(b"whsec_k", BODY, hashlib.sha256).digest()).decode()
    assert sign_webhook("whsec_k", BODY) == "sha256=" + expected


def test_a_good_delivery_verifies_with_any_current_secret() -> None:
    batch = verify_webhook(
        BODY, sign_webhook("whsec_new", BODY), ["whsec_old", "whsec_new"], now=NOW + 10,
        app_id="app",
    )  # fmt: skip
    assert (batch.id, batch.app_id, batch.sent_at) == ("whd_1", "app", NOW)
    assert batch.events == ({"id": "evt_1"},)


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
def test_forged_tampered_stale_or_foreign_deliveries_are_refused(
    body: bytes, signature: str | None, now: int, app_id: str | None
) -> None:
    with pytest.raises(WebhookError) as caught:
        verify_webhook(body, signature, "whsec_k", now=now, app_id=app_id)
    assert caught.value.code == "invalid_webhook"


@pytest.mark.parametrize(
    ("sent_at", "tamper", "accepted"),
    [(0, False, True), (0, True, False), (-3600, False, False)],
)
def test_the_node_recipe_checks_what_the_server_signs(
    sent_at: int, tamper: bool, accepted: bool
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; it runs tests/node/verify-webhook.mjs")
    body = json.dumps({"id": "whd_1", "app_id": "app", "sent_at": int(time.time()) + sent_at,
                       "events": [{"id": "evt_é1"}]}, ensure_ascii=False)  # fmt: skip
    signature = sign_webhook("whsec_k", body.encode())
    sent = body.replace("evt_é1", "evt_é2") if tamper else body
    done = subprocess.run(
        [node, str(Path(__file__).parents[1] / "node" / "verify-webhook.mjs")],
        input=json.dumps({"body": sent, "signature": signature, "secret": "whsec_k"}),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode == 0) is accepted, done.stderr
    if accepted:
        assert done.stdout.strip() == "evt_é1"
