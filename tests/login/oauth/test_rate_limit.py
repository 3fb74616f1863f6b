"""Each social-login start stores a row until it expires, so starts are limited per address."""

from __future__ import annotations

from pathlib import Path

from tests.oauth.browser import Browser, pkce_pair
from tests.oauth.sessile import oauth_server
from tests.oauth.stubs import CLIENT_ID, CLIENT_SECRET, ForgingIssuer, running
from tests.server import free_port


def test_starts_past_the_limit_get_rate_limited(tmp_path: Path) -> None:
    with running(ForgingIssuer()) as issuer:
        env = {
            "SESSILE_OAUTH_GOOGLE_CLIENT_ID": CLIENT_ID,
            "SESSILE_OAUTH_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "SESSILE_OAUTH_GOOGLE_ISSUER": issuer.url,
            "SESSILE_OAUTH_RATE_PER_IP": "3/minute",
        }
        with oauth_server(tmp_path, free_port(), env) as server, Browser() as browser:
            answers = [browser.authorize(server.url, "google", pkce_pair()[1]) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["code"] == "rate_limited"
    assert int(answers[3].headers["Retry-After"]) > 0
