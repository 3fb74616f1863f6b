"""DPoP proof validation, RFC 9449 §4.3 (checking DPoP proofs) and §11.1 (replay).

:func:`check_proof` applies every rule of DESIGN §3 to plain values and a clock
and does no I/O. :func:`validate_proof` adds the replay check, last, so that a
proof failing any other rule never uses up its ``jti``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any, Protocol

from joserfc import jwk, jws
from joserfc.errors import JoseError
from joserfc.util import urlsafe_b64decode

from sessile.clock import Clock
from sessile.config import Settings
from sessile.dpop.htu import normalize_htu
from sessile.dpop.nonce import NonceIssuer
from sessile.dpop.replay_cache import ReplayStore
from sessile.errors import InvalidDPoPProof, MissingDPoPProof, UseDPoPNonce
from sessile.jose import HeaderError, check_header

__all__ = ["ProofPolicy", "ValidatedProof", "check_proof", "validate_proof"]

#: RFC 9449 §4.2: exactly this ``typ``.
_TYPES = frozenset({"dpop+jwt"})
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k", "oth"})


@dataclass(frozen=True)
class ProofPolicy:
    """The knobs of DESIGN §3, in seconds; :meth:`from_settings` reads them from Settings."""

    algorithms: frozenset[str] = frozenset({"ES256"})
    iat_leeway_past: int = 60
    iat_leeway_future: int = 5
    nonce_required: bool = True
    nonce_iat_leeway: int = 86_400
    max_header_bytes: int = 8 * 1024
    max_jti_length: int = 255

    @classmethod
    def from_settings(cls, settings: Settings) -> ProofPolicy:
        return cls(
            algorithms=frozenset(settings.dpop_algorithms),
            iat_leeway_past=settings.dpop_iat_leeway_past,
            iat_leeway_future=settings.dpop_iat_leeway_future,
            nonce_required=settings.dpop_nonce_required,
            nonce_iat_leeway=settings.dpop_nonce_iat_leeway,
        )


@dataclass(frozen=True)
class ValidatedProof:
    """A proof that passed every check. ``expires_at`` ends the window it is valid in."""

    jkt: str
    jti: str
    iat: float
    nonce: str | None
    htm: str
    htu: str
    jwk: Mapping[str, Any] = field(hash=False)
    expires_at: float


@cache
def _registry(alg: str) -> jws.JWSRegistry:
    # Unknown header parameters are ignored, as RFC 7515 §4 asks; `crit` is refused earlier.
    return jws.JWSRegistry(algorithms=[alg], strict_check_header=False)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


_CLAIMS_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _single_header(headers: Sequence[str], policy: ProofPolicy) -> str:
    if not headers:
        raise MissingDPoPProof()
    if len(headers) > 1:
        raise InvalidDPoPProof("The request carries more than one DPoP header.")
    value = headers[0].strip()
    if not value:
        raise MissingDPoPProof()
    if len(value.encode("utf-8", "surrogatepass")) > policy.max_header_bytes:
        raise InvalidDPoPProof("The DPoP header is too large.")
    if "," in value:  # Two headers joined by a proxy: a compact JWS has no comma.
        raise InvalidDPoPProof("The request carries more than one DPoP proof.")
    return value


class _Algorithm(Protocol):
    """The part of joserfc's JWS algorithm model a proof uses."""

    def verify(self, msg: bytes, sig: bytes, key: Any) -> bool: ...


@dataclass(frozen=True)
class _ProofKey:
    """What a proof's protected header gives once it passed its checks."""

    public_jwk: Mapping[str, Any]
    key: jwk.Key
    algorithm: _Algorithm
    jkt: str


# A client signs every proof with one key, so its protected header repeats: the checks
# on it, the key import, the key's fit to its algorithm and the thumbprint are done once
# per header (and policy), not once per proof. Only headers that passed are kept; the
# signature is checked every time, by joserfc's algorithm on the header's exact bytes.
_HEADER_CACHE_SIZE = 4096


@lru_cache(maxsize=_HEADER_CACHE_SIZE)
def _proof_key(protected: bytes, policy: ProofPolicy) -> _ProofKey:
    try:
        header = json.loads(urlsafe_b64decode(protected))
    except (ValueError, TypeError, UnicodeError, RecursionError) as exc:
        raise InvalidDPoPProof("The DPoP header is not a compact JWS.") from exc
    if not isinstance(header, dict):
        raise InvalidDPoPProof("The proof's header is not a JSON object.")
    try:
        alg = check_header(header, types=_TYPES, algorithms=policy.algorithms)
    except HeaderError as exc:
        if exc.member == "typ":
            raise InvalidDPoPProof('The proof\'s "typ" is not "dpop+jwt".') from exc
        raise InvalidDPoPProof('The proof\'s "alg" is not an allowed algorithm.') from exc
    if "crit" in header:
        raise InvalidDPoPProof("The proof uses critical header parameters sessile doesn't know.")
    public_jwk = header.get("jwk")
    if not isinstance(public_jwk, dict) or not all(isinstance(k, str) for k in public_jwk):
        raise InvalidDPoPProof('The proof\'s "jwk" is missing or not a JSON object.')
    if _PRIVATE_MEMBERS & public_jwk.keys():
        raise InvalidDPoPProof('The proof\'s "jwk" holds a private or symmetric key.')
    try:
        key = jwk.import_key(public_jwk)
        algorithm = _registry(alg).get_alg(alg)
        algorithm.check_key(key)
        jkt = key.thumbprint()
    except (JoseError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidDPoPProof('The proof\'s "jwk" is not a usable key for its "alg".') from exc
    return _ProofKey(MappingProxyType(dict(public_jwk)), key, algorithm, jkt)


def _verified_jws(value: str, policy: ProofPolicy) -> tuple[_ProofKey, bytes]:
    """The proof's key and payload, once its signature verifies (RFC 7515 §5.2)."""
    try:
        header, payload, signature = value.encode("ascii").split(b".")
        proof_key = _proof_key(header, policy)
        claims = urlsafe_b64decode(payload)
        raw_signature = urlsafe_b64decode(signature)
    except (ValueError, TypeError, UnicodeError) as exc:  # three segments, each base64url
        raise InvalidDPoPProof("The DPoP header is not a compact JWS.") from exc
    try:
        valid = proof_key.algorithm.verify(header + b"." + payload, raw_signature, proof_key.key)
    except (JoseError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidDPoPProof('The proof\'s "jwk" is not a usable key for its "alg".') from exc
    if not valid:
        raise InvalidDPoPProof("The proof's signature does not verify.")
    return proof_key, claims


def _storable(text: str) -> bool:
    """Text every store keeps as it is: PostgreSQL's text has no NUL, and UTF-8 (every
    store's encoding) has no lone surrogate, which JSON's ``\\ud800`` escapes can give.
    The replay store and the session row keep a proof's ``jti``: one that no database
    takes would fail the statement, and with it a batch of other clients' rotations."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _claims(payload: bytes, policy: ProofPolicy) -> dict[str, Any]:
    try:
        claims = _CLAIMS_DECODER.decode(payload.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise InvalidDPoPProof("The proof's payload is not JSON.") from exc
    if not isinstance(claims, dict):
        raise InvalidDPoPProof("The proof's payload is not a JSON object.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= policy.max_jti_length:
        raise InvalidDPoPProof(
            f'"jti" must be a string of 1 to {policy.max_jti_length} characters.'
        )
    if not _storable(jti):
        raise InvalidDPoPProof('"jti" holds a NUL character or a lone surrogate.')
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise InvalidDPoPProof('"iat" must be a number.')
    try:
        claims["iat"] = float(iat)  # A huge integer has no float: out of any window.
    except OverflowError as exc:
        raise InvalidDPoPProof('"iat" is out of range.') from exc
    for name in ("htm", "htu"):
        if not isinstance(claims.get(name), str):
            raise InvalidDPoPProof(f'"{name}" must be a string.')
    if "nonce" in claims and not isinstance(claims["nonce"], str):
        raise InvalidDPoPProof('"nonce" must be a string.')
    return claims


def _freshness(
    iat: float, nonce: str | None, now: float, nonces: NonceIssuer, policy: ProofPolicy
) -> float:
    """Check RFC 9449 §11.1 freshness; return the end of the proof's acceptance window."""
    window_end = -math.inf
    if nonce is not None:
        nonce_end = nonces.valid_until(nonce, now)
        if nonce_end is None:
            raise UseDPoPNonce("The DPoP nonce is unknown or has expired.")
        # A server nonce proves freshness; iat only has to be roughly right.
        if abs(iat - now) > policy.nonce_iat_leeway:
            raise InvalidDPoPProof("The proof's \"iat\" is too far from the server's time.")
        window_end = nonce_end
    elif policy.nonce_required:
        raise UseDPoPNonce("This server requires a DPoP nonce.")
    fresh_iat = now - policy.iat_leeway_past <= iat <= now + policy.iat_leeway_future
    if fresh_iat:
        window_end = max(window_end, iat + policy.iat_leeway_past)
    elif nonce is None:
        # The client's clock is off: a nonce lets it prove freshness instead.
        raise UseDPoPNonce('The proof\'s "iat" is outside the accepted window.')
    return window_end


def check_proof(
    headers: Sequence[str],
    *,
    method: str,
    url: str,
    clock: Clock,
    nonces: NonceIssuer,
    policy: ProofPolicy,
) -> ValidatedProof:
    """Apply RFC 9449 §4.3 checks 1-11, except replay, to the request's ``DPoP`` headers.

    ``url`` is the endpoint URL built from the configured public URL, never
    from ``Host``. Raises a :class:`~sessile.errors.DPoPError`. Check 12, the key
    bound to the token, is the session's: its rotation takes only its own key's proof.
    """
    value = _single_header(headers, policy)
    proof_key, payload = _verified_jws(value, policy)
    claims = _claims(payload, policy)
    if claims["htm"] != method:
        raise InvalidDPoPProof('The proof\'s "htm" does not match the request method.')
    expected_htu = normalize_htu(url)
    if expected_htu is None:
        raise ValueError(f"the endpoint URL {url!r} is not an absolute http(s) URL")
    if normalize_htu(claims["htu"]) != expected_htu:
        raise InvalidDPoPProof('The proof\'s "htu" does not match the endpoint URL.')
    jkt = proof_key.jkt
    nonce: str | None = claims.get("nonce")
    iat: float = claims["iat"]
    expires_at = _freshness(iat, nonce, clock.now(), nonces, policy)
    return ValidatedProof(
        jkt=jkt,
        jti=claims["jti"],
        iat=iat,
        nonce=nonce,
        htm=claims["htm"],
        htu=claims["htu"],
        jwk=proof_key.public_jwk,
        expires_at=expires_at,
    )


async def validate_proof(
    headers: Sequence[str],
    *,
    method: str,
    url: str,
    clock: Clock,
    nonces: NonceIssuer,
    replay: ReplayStore,
    policy: ProofPolicy,
) -> ValidatedProof:
    """:func:`check_proof`, then the replay check (RFC 9449 §11.1) on ``(jkt, jti)``."""
    proof = check_proof(
        headers,
        method=method,
        url=url,
        clock=clock,
        nonces=nonces,
        policy=policy,
    )
    first_use = await replay.remember(
        proof.jkt, proof.jti, expires_at=proof.expires_at, now=clock.now()
    )
    if not first_use:
        raise InvalidDPoPProof("The DPoP proof has been used before.")
    return proof
