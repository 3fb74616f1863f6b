"""What a webhook receiver and the management API must refuse, on a live server: a delivery
changed after signing, a signature by a key the JWKS does not hold, another endpoint's
HMAC secret, an activation answered with a wrong echo, and a key without the ``webhooks``
scope. (A private or loopback endpoint URL is refused by ``tests/events/test_endpoints.py``
and, at delivery time, ``tests/events/test_egress.py``.)"""

from __future__ import annotations

import base64
import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sessile.verify import WebhookError, WebhookKeys, verify_webhook
from tests.events.management import SERVER_ENV, Management, scoped_api_key
from tests.events.prelude_receiver import check_hmac, check_rsassa_pss
from tests.events.receiver import Receiver, receiver
from tests.live import LiveServer, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("attacks"), env=SERVER_ENV) as live:
        yield live


@pytest.fixture(scope="module")
def api(server: LiveServer) -> Management:
    return Management(server.url, server.api_key())


def _one_delivery(
    api: Management, inbox: Receiver, email: str, signature: str
) -> tuple[bytes, dict[str, str]]:
    api.subscribe(inbox, ["user.created"], signature=signature)
    api.create_user(email)
    inbox.wait_for(1)
    with inbox.lock:
        return inbox.raw[0]


def _rsassa_pss(key: rsa.RSAPrivateKey, body: bytes) -> str:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    raw = key.sign(body, pss, hashes.SHA256())
    return "rsassa-pss-sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_body_changed_after_signing_or_signed_by_a_stranger_fails(
    server: LiveServer, api: Management
) -> None:
    jwks_url = server.url + "/.well-known/jwks.json"
    keys = WebhookKeys(server.url)
    with receiver() as inbox:
        body, headers = _one_delivery(api, inbox, "signed@example.com", "rsassa-pss-sha256")
    signature, kid = headers["x-webhook-signature"], headers["x-webhook-signature-key-id"]
    assert check_rsassa_pss(jwks_url, body, signature, kid) is None
    assert verify_webhook(body, signature, key_id=kid, keys=keys).events

    changed = body.replace(b"signed@example.com", b"signer@example.com")
    assert check_rsassa_pss(jwks_url, changed, signature, kid) is not None
    with pytest.raises(WebhookError):
        verify_webhook(changed, signature, key_id=kid, keys=keys)

    # A key of the attacker's own, under the kid of the published key, or under its own.
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = _rsassa_pss(stranger, changed)
    assert check_rsassa_pss(jwks_url, changed, forged, kid) is not None
    for claimed_kid in (kid, "attacker-kid"):
        with pytest.raises(WebhookError):
            verify_webhook(changed, forged, key_id=claimed_kid, keys=keys)
    # The token key's kid names no RSA signing key.
    published = httpx.get(jwks_url, timeout=10).json()["keys"]
    token_kid = next(k["kid"] for k in published if k["alg"] == "ES256")
    with pytest.raises(WebhookError):
        verify_webhook(body, signature, key_id=token_kid, keys=keys)


def test_the_hmac_secret_of_another_webhook_fails(api: Management) -> None:
    with receiver() as first, receiver() as second:
        body, headers = _one_delivery(api, first, "hmac-a@example.com", "hmac-sha256")
        api.subscribe(second, ["user.deleted"], signature="hmac-sha256")
    [mine], [theirs] = first.secrets, second.secrets
    assert mine != theirs
    signature = headers["x-webhook-signature"]
    assert check_hmac(mine, body, signature) is None
    assert check_hmac(theirs, body, signature) is not None
    with pytest.raises(WebhookError):
        verify_webhook(body, signature, theirs)
    assert verify_webhook(body, signature, mine).events


class _Answering:
    """An endpoint that answers the activation GET with a fixed body."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(owner.answer)))
                self.end_headers()
                self.wfile.write(owner.answer)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks"


@contextlib.contextmanager
def _answering(answer: bytes) -> Iterator[_Answering]:
    endpoint = _Answering(answer)
    threading.Thread(target=endpoint.httpd.serve_forever, daemon=True).start()
    try:
        yield endpoint
    finally:
        endpoint.httpd.shutdown()
        endpoint.httpd.server_close()


@pytest.mark.parametrize(
    "answer",
    [
        b'{"challenge": 1}',
        b'{"challenge": "1"}',
        b'{"verification_token": "not-the-token"}',
        b'{"verification_token": "let-me-in", "challenge": 1}',
        b"{}",
        b"let-me-in",
        b"",
    ],
    ids=["wrong integer", "string", "wrong token", "token with wrong integer", "empty object",
         "plain text", "empty"],
)  # fmt: skip
def test_an_activation_with_a_wrong_echo_fails(api: Management, answer: bytes) -> None:
    with _answering(answer) as endpoint:
        created = api.call("POST", "/webhooks", 201, json={
            "url": endpoint.url, "verification_token": "let-me-in", "events": ["user.created"],
        })  # fmt: skip
        webhook_id = created["webhook"]["id"]
        for method in ("POST", "GET"):
            failed = api.call(method, f"/webhooks/{webhook_id}/activate", 400)
            assert failed["code"] == "bad_request"
    assert api.call("GET", f"/webhooks/{webhook_id}")["webhook"]["active"] is False


def test_a_key_without_the_webhooks_scope_gets_403_on_every_webhook_route(
    server: LiveServer, api: Management
) -> None:
    with receiver() as inbox:
        webhook_id = api.subscribe(inbox, ["user.created"])
    narrow = Management(server.url, scoped_api_key(server, ["users:read", "users:write"]))
    body = {"url": "https://8.8.8.8/hooks", "verification_token": "t", "events": ["user.created"]}
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/webhooks", body),
        ("GET", "/webhooks", None),
        ("GET", f"/webhooks/{webhook_id}", None),
        ("PATCH", f"/webhooks/{webhook_id}", {"events": ["user.deleted"]}),
        ("POST", f"/webhooks/{webhook_id}/events", {"event": "user.deleted"}),
        ("POST", f"/webhooks/{webhook_id}/activate", None),
        ("GET", f"/webhooks/{webhook_id}/activate", None),
        ("GET", f"/webhooks/{webhook_id}/dead_letters", None),
        ("POST", f"/webhooks/{webhook_id}/dead_letters/redeliver", {}),
        ("DELETE", f"/webhooks/{webhook_id}", None),
    ]
    for method, path, json_body in routes:
        refused = narrow.call(method, path, 403, json=json_body)
        assert refused["code"] == "forbidden", (method, path)
    unchanged = api.call("GET", f"/webhooks/{webhook_id}")["webhook"]
    assert unchanged["events"] == ["user.created"]
    assert len(api.call("GET", "/webhooks")["webhooks"]) >= 1
