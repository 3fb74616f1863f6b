"""Providers of a given shape in a thread on loopback, for what a real one won't do on
demand: ID tokens with one thing wrong (``ForgingIssuer``), GitHub's OAuth 2.0 plus its
user and emails API (``GitHubLike``), and Facebook's OAuth 2.0 plus the Graph API's ``/me``
(``FacebookLike``). Each authorize step sends the browser straight back,
as a provider does for someone already signed in who consented before."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

__all__ = ["FacebookLike", "ForgingIssuer", "GitHubLike", "running"]

CLIENT_ID = "sessile-app"
CLIENT_SECRET = "stub-provider-secret"


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


@dataclass
class _Grant:
    redirect_uri: str
    code_challenge: str
    nonce: str | None


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class _Stub:
    """A loopback HTTP server routing to ``get_<name>`` and ``post_<name>`` methods."""

    def __init__(self) -> None:
        self._grants: dict[str, _Grant] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        #: The token endpoint's requests, as parsed forms, for assertions.
        self.token_requests: list[dict[str, str]] = []
        #: An ``iss`` to put in the authorization response (RFC 9207).
        self.authorize_iss: str | None = None
        #: Apple's way: the client secret is an ES256 JWT by this key, not a shared secret.
        self.apple_key: ECKey | None = None
        self.apple_team = "TEAM123456"
        #: Apple sends the name once, in the form_post's ``user`` field.
        self.form_post_user: dict[str, Any] | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _route(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                name = f"{method}_" + parts.path.strip("/").replace("/", "_").replace(
                    ".", "_"
                ).replace("-", "_")
                handler = getattr(owner, name, None)
                reply = (
                    handler(query, form, dict(self.headers))
                    if handler
                    else _Reply(404, {"error": "not_found"})
                )
                self.send_response(reply.status)
                if isinstance(reply.body, str):
                    body = reply.body.encode()
                    reply.headers.setdefault("Content-Type", "text/html; charset=utf-8")
                else:
                    body = b"" if reply.body is None else json.dumps(reply.body).encode()
                for key, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._route("get")

            def do_POST(self) -> None:
                self._route("post")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def _authorize(self, query: dict[str, str]) -> _Reply:
        assert query.get("code_challenge_method") == "S256", "sessile always sends PKCE S256"
        code = secrets.token_urlsafe(16)
        self._grants[code] = _Grant(
            query["redirect_uri"], query["code_challenge"], query.get("nonce")
        )
        answer = {"code": code, "state": query["state"]}
        if self.authorize_iss:
            answer["iss"] = self.authorize_iss
        if query.get("response_mode") == "form_post":
            if self.form_post_user is not None:
                answer["user"] = json.dumps(self.form_post_user)
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                for k, v in answer.items()
            )
            page = (
                f'<form method="post" action="{html.escape(query["redirect_uri"])}">{fields}</form>'
            )
            return _Reply(200, page)
        target = query["redirect_uri"] + "?" + urlencode(answer)
        return _Reply(302, None, {"Location": target})

    def _redeem(self, form: dict[str, str], headers: dict[str, str]) -> _Grant | _Reply:
        self.token_requests.append(form)
        grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return _Reply(400, {"error": "invalid_grant"})
        if s256(form.get("code_verifier", "")) != grant.code_challenge:
            return _Reply(400, {"error": "invalid_grant", "error_description": "PKCE failed"})
        if not self._client_ok(form, headers):
            return _Reply(401, {"error": "invalid_client"})
        return grant

    def start(self) -> None:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _client_ok(self, form: dict[str, str], headers: dict[str, str]) -> bool:
        if self.apple_key is not None:
            return self._apple_secret_ok(form)
        return _shared_secret_ok(form, headers)

    def _apple_secret_ok(self, form: dict[str, str]) -> bool:
        assert self.apple_key is not None
        try:
            token = jwt.decode(form.get("client_secret", ""), self.apple_key)
        except JoseError:
            return False
        claims = token.claims
        return (
            token.header.get("kid") == "KEY1234567"
            and claims.get("iss") == self.apple_team
            and claims.get("sub") == CLIENT_ID
            and claims.get("aud") == self.url
            and claims.get("exp", 0) > time.time()
        )


def _shared_secret_ok(form: dict[str, str], headers: dict[str, str]) -> bool:
    basic = headers.get("Authorization", "")
    if basic.startswith("Basic "):
        pair = base64.b64decode(basic[6:]).decode()
        return pair == f"{CLIENT_ID}:{CLIENT_SECRET}"
    return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET


class ForgingIssuer(_Stub):
    """An OpenID Connect issuer whose next ID tokens carry ``defect``:
    ``aud``, ``iss``, ``nonce``, ``expired``, ``signature``, ``alg_none`` or None."""

    def __init__(self) -> None:
        super().__init__()
        self.key = ECKey.generate_key("P-256", parameters={"kid": "stub-1"})
        self.defect: str | None = None
        self.claims: dict[str, Any] = {
            "sub": "stub-user",
            "email": "stub@example.com",
            "email_verified": True,
        }

    def get__well_known_openid_configuration(self, *_: Any) -> _Reply:
        return _Reply(
            200,
            {
                "issuer": self.url,
                "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token",
                "jwks_uri": self.url + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
                "code_challenge_methods_supported": ["S256"],
            },
        )

    def get_jwks(self, *_: Any) -> _Reply:
        return _Reply(200, {"keys": [self.key.as_dict(private=False)]})

    def get_authorize(self, query: dict[str, str], *_: Any) -> _Reply:
        return self._authorize(query)

    def post_token(
        self, _query: dict[str, str], form: dict[str, str], headers: dict[str, str]
    ) -> _Reply:
        grant = self._redeem(form, headers)
        if isinstance(grant, _Reply):
            return grant
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **self.claims,
        }
        key = self.key
        if self.defect == "aud":
            claims["aud"] = "someone-else"
        elif self.defect == "iss":
            claims["iss"] = "https://impostor.example"
        elif self.defect == "nonce":
            claims["nonce"] = "a-nonce-from-another-login"
        elif self.defect == "expired":
            claims["iat"], claims["exp"] = now - 900, now - 600
        elif self.defect == "signature":
            key = ECKey.generate_key("P-256", parameters={"kid": "stub-1"})
        if self.defect == "alg_none":
            header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
            payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            id_token = f"{header}.{payload}."
        else:
            id_token = jwt.encode({"alg": "ES256", "kid": "stub-1"}, claims, key)
        return _Reply(
            200,
            {
                "access_token": "at-" + secrets.token_hex(8),
                "token_type": "Bearer",
                "id_token": id_token,
            },
        )


class GitHubLike(_Stub):
    """GitHub's shape: ``/login/oauth/authorize``, ``/login/oauth/access_token``, and the
    API's ``/user`` and ``/user/emails`` for the token it gave."""

    def __init__(self) -> None:
        super().__init__()
        self.user: dict[str, Any] = {
            "id": 4242,
            "login": "octocat",
            "name": "The Octocat",
            "avatar_url": "https://avatars.example.com/u/4242",
        }
        self.emails: list[dict[str, Any]] = [
            {
                "email": "octocat@example.com",
                "primary": True,
                "verified": True,
                "visibility": "public",
            }
        ]
        self._tokens: set[str] = set()

    def get_login_oauth_authorize(self, query: dict[str, str], *_: Any) -> _Reply:
        return self._authorize(query)

    def post_login_oauth_access_token(
        self, _query: dict[str, str], form: dict[str, str], headers: dict[str, str]
    ) -> _Reply:
        grant = self._redeem(form, headers)
        if isinstance(grant, _Reply):
            # GitHub answers 200 with an error member.
            return _Reply(200, grant.body)
        token = "gho_" + secrets.token_hex(16)
        self._tokens.add(token)
        return _Reply(
            200, {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}
        )

    def _authorized(self, headers: dict[str, str]) -> bool:
        auth = headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self._tokens

    def get_api_user(self, _q: Any, _f: Any, headers: dict[str, str]) -> _Reply:
        if not self._authorized(headers):
            return _Reply(401, {"message": "Bad credentials"})
        return _Reply(200, self.user)

    def get_api_user_emails(self, _q: Any, _f: Any, headers: dict[str, str]) -> _Reply:
        if not self._authorized(headers):
            return _Reply(401, {"message": "Bad credentials"})
        return _Reply(200, self.emails)

    def sessile_env(self) -> dict[str, str]:
        return {
            "SESSILE_OAUTH_GITHUB_CLIENT_ID": CLIENT_ID,
            "SESSILE_OAUTH_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            "SESSILE_OAUTH_GITHUB_AUTHORIZE_URL": self.url + "/login/oauth/authorize",
            "SESSILE_OAUTH_GITHUB_TOKEN_URL": self.url + "/login/oauth/access_token",
            "SESSILE_OAUTH_GITHUB_API_URL": self.url + "/api",
        }


class FacebookLike(_Stub):
    """Facebook's shape: ``/dialog/oauth``, ``/oauth/access_token``, and the Graph API's
    ``/me`` for the token it gave, which checks ``appsecret_proof`` when one is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.me: dict[str, Any] = {
            "id": "10158000000000001",
            "name": "Mark Page",
            "email": "mark@example.com",
        }
        self._tokens: set[str] = set()
        #: The query of each ``/me`` call, for assertions.
        self.me_requests: list[dict[str, str]] = []

    def get_dialog_oauth(self, query: dict[str, str], *_: Any) -> _Reply:
        return self._authorize(query)

    def post_oauth_access_token(
        self, _query: dict[str, str], form: dict[str, str], headers: dict[str, str]
    ) -> _Reply:
        grant = self._redeem(form, headers)
        if isinstance(grant, _Reply):
            return grant
        token = "EAA" + secrets.token_hex(16)
        self._tokens.add(token)
        return _Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 5183944})

    def get_me(self, query: dict[str, str], _f: Any, headers: dict[str, str]) -> _Reply:
        self.me_requests.append(query)
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in self._tokens:
            return _Reply(400, {"error": {"message": "Invalid OAuth access token.", "code": 190}})
        proof = hmac.new(CLIENT_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
        if query.get("appsecret_proof") != proof:
            return _Reply(400, {"error": {"message": "Invalid appsecret_proof", "code": 100}})
        fields = query.get("fields", "id").split(",")
        return _Reply(200, {k: v for k, v in self.me.items() if k in fields})

    def sessile_env(self) -> dict[str, str]:
        return {
            "SESSILE_OAUTH_FACEBOOK_CLIENT_ID": CLIENT_ID,
            "SESSILE_OAUTH_FACEBOOK_CLIENT_SECRET": CLIENT_SECRET,
            "SESSILE_OAUTH_FACEBOOK_AUTHORIZE_URL": self.url + "/dialog/oauth",
            "SESSILE_OAUTH_FACEBOOK_TOKEN_URL": self.url + "/oauth/access_token",
            "SESSILE_OAUTH_FACEBOOK_API_URL": self.url,
        }


Stub = TypeVar("Stub", bound=_Stub)


@contextlib.contextmanager
def running(stub: Stub) -> Iterator[Stub]:
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()
