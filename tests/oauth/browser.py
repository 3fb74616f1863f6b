"""A browser, as far as a social login needs one: a cookie jar, redirects followed one by
one, and HTML forms filled in. It stops at the app's own page, which is never fetched."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

__all__ = ["APP_CALLBACK", "Browser", "Landing", "pkce_pair"]

#: The app's callback page; sessile redirects here, and the tests read its query.
APP_CALLBACK = "http://127.0.0.1:9/app/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class Landing:
    """The app's page as sessile sent the browser to it."""

    url: str

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}


class Browser:
    def __init__(self) -> None:
        self.http = httpx.Client(follow_redirects=False, timeout=15)
        #: Every URL the browser was sent to, in order.
        self.visited: list[str] = []
        #: Refuse on the provider's consent page instead of allowing.
        self.deny = False

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def authorize(
        self, sessile: str, provider: str, code_challenge: str, redirect_uri: str = APP_CALLBACK
    ) -> httpx.Response:
        """What Prelude's ``initiateOAuthLogin`` sends."""
        return self.http.post(
            f"{sessile}/v1/session/login/oauth/{provider}/authorize",
            json={
                "redirect_uri": redirect_uri,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            },
        )

    def start(self, sessile: str, provider: str, code_challenge: str) -> str:
        answer = self.authorize(sessile, provider, code_challenge)
        assert answer.status_code == 200, answer.text
        url: str = answer.json()["authorization_url"]
        return url

    def go(
        self,
        url: str,
        *,
        login: str | None = None,
        password: str | None = None,
        stop_at: str = APP_CALLBACK,
    ) -> Landing:
        """Follow ``url`` until the browser is sent to ``stop_at``, signing in on the way."""
        response = self.http.get(url)
        for _ in range(20):
            self.visited.append(str(response.request.url))
            if response.is_redirect:
                target = urljoin(str(response.request.url), response.headers["location"])
                if target.startswith(stop_at):
                    return Landing(target)
                response = self.http.get(target)
                continue
            assert response.status_code == 200, f"{response.status_code}: {response.text[:500]}"
            response = self._submit(response, login, password)
        raise AssertionError("too many steps")

    def _submit(
        self, page: httpx.Response, login: str | None, password: str | None
    ) -> httpx.Response:
        """Fill in the page's form: the provider's sign-in, its consent, or a form_post."""
        html = page.text
        action = re.search(r'<form[^>]*action="([^"]*)"', html)
        assert action, f"no form on the page: {html[:500]}"
        fields = {
            unescape(name): unescape(value)
            for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)
        }
        if 'name="login"' in html:
            assert login is not None, "the provider asks to sign in"
            assert password is not None
            fields.update(login=login, password=password)
        target = urljoin(str(page.request.url), unescape(action.group(1)))
        if self.deny and target.endswith("/confirm"):
            target = target.removesuffix("/confirm") + "/abort"
        return self.http.post(target, data=fields)

    def callback(self, url: str) -> httpx.Response:
        return self.http.get(url)
