"""The issuer's JWK Set (RFC 7517 §5) and when to fetch it again.

``KeyCache`` is the policy with no I/O: a set is fresh for its ``Cache-Control``
``max-age`` (RFC 9111 §5.2.2.1); an unknown ``kid`` or a stale set asks for a
fetch; and whatever asks, fetches are at least ``min_interval`` apart, failed
ones included, so a flood of forged ``kid`` values cannot hammer the issuer.
The fetch functions at the bottom are the only I/O.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

__all__ = [
    "JwksFetchError",
    "KeyCache",
    "PublicKey",
    "fetch_jwks",
    "fetch_jwks_async",
    "max_age_of",
    "parse_jwks",
]

#: A JWKS larger than this is not a JWKS; stop reading instead of buffering it.
MAX_JWKS_BYTES = 256 * 1024
#: However long the issuer says, look again at least daily.
MAX_CACHE_SECONDS = 86_400.0

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:,|=|$)", re.IGNORECASE)


class JwksFetchError(Exception):
    """The JWKS could not be fetched or was not a JWKS."""


@dataclass(frozen=True)
class PublicKey:
    kid: str
    key: Key
    #: The JWK's own ``alg``, if it names one; a token must then use exactly that (RFC 8725 §3.1).
    alg: str | None


def parse_jwks(document: object, algorithms: Collection[str]) -> dict[str, PublicKey]:
    """The usable signing keys of a JWKS, by ``kid``; keys sessile cannot use are skipped."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise JwksFetchError("the document is not a JWK Set")
    keys: dict[str, PublicKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict):
            continue
        kid, alg = entry.get("kid"), entry.get("alg")
        if not isinstance(kid, str) or not kid:
            continue
        # Symmetric keys never verify here, whatever a confused JWKS says.
        if entry.get("kty") == "oct" or entry.get("use", "sig") != "sig":
            continue
        if alg is not None and alg not in algorithms:
            continue
        public = {k: v for k, v in entry.items() if k not in _PRIVATE_MEMBERS}
        try:
            key = JWKRegistry.import_key(public)
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        keys[kid] = PublicKey(kid, key, alg if isinstance(alg, str) else None)
    return keys


_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def max_age_of(cache_control: str | None) -> float | None:
    """``max-age`` from a ``Cache-Control`` value; 0 for ``no-cache``/``no-store``; else None."""
    if not cache_control:
        return None
    if _NO_CACHE.search(cache_control):
        return 0.0
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None


@dataclass
class KeyCache:
    """Keys by ``kid`` and the rules for fetching them again; every time is a plain number."""

    min_interval: float
    default_max_age: float
    keys: dict[str, PublicKey] = field(default_factory=dict)
    expires_at: float = -float("inf")
    attempted_at: float | None = None
    #: The last fetch failed (so an unknown kid may be the JWKS's fault, not the token's).
    failed: bool = False
    #: Keys given up front: nothing is ever fetched.
    static: bool = False

    @classmethod
    def of(cls, keys: dict[str, PublicKey]) -> KeyCache:
        return cls(0.0, 0.0, keys, expires_at=float("inf"), static=True)

    def should_fetch(self, kid: str, now: float) -> bool:
        if self.static:
            return False
        # A clock that went backwards counts as "long enough ago".
        if self.attempted_at is not None and 0 <= now - self.attempted_at < self.min_interval:
            return False
        return now >= self.expires_at or kid not in self.keys

    def store(self, keys: dict[str, PublicKey], max_age: float | None, now: float) -> None:
        age = self.default_max_age if max_age is None else max_age
        self.keys = keys
        self.expires_at = now + min(max(age, self.min_interval), MAX_CACHE_SECONDS)
        self.attempted_at = now
        self.failed = False

    def record_failure(self, now: float) -> None:
        # Stale keys stay in use: the issuer being down is no reason to refuse good tokens.
        self.attempted_at = now
        self.failed = True


def _request(url: str) -> httpx.Request:
    return httpx.Request(
        "GET", url, headers={"Accept": "application/jwk-set+json, application/json"}
    )


def _document(response: httpx.Response, body: bytes) -> tuple[Any, float | None]:
    if response.status_code != 200:
        raise JwksFetchError(f"the JWKS answered HTTP {response.status_code}")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise JwksFetchError("the JWKS is not JSON") from exc
    return document, max_age_of(response.headers.get("Cache-Control"))


def fetch_jwks(url: str, http_timeout: float) -> tuple[Any, float | None]:
    """GET the JWKS; return the JSON document and its ``max-age``."""
    try:
        with httpx.Client(timeout=http_timeout) as client:
            response = client.send(_request(url), stream=True)
            try:
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise JwksFetchError("the JWKS is too large")
            finally:
                response.close()
    except httpx.HTTPError as exc:
        raise JwksFetchError(f"the JWKS could not be fetched: {type(exc).__name__}") from exc
    return _document(response, body)


async def fetch_jwks_async(
    url: str, http_timeout: float, *, client: httpx.AsyncClient | None = None
) -> tuple[Any, float | None]:
    """GET the JWKS without blocking the event loop; as :func:`fetch_jwks`. ``client``,
    when given, sends it (a server fetching a URL its operator set may need one that
    reaches only public addresses)."""
    try:
        async with contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(httpx.AsyncClient(timeout=http_timeout))
            response = await client.send(_request(url), stream=True)
            try:
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise JwksFetchError("the JWKS is too large")
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        raise JwksFetchError(f"the JWKS could not be fetched: {type(exc).__name__}") from exc
    return _document(response, body)
