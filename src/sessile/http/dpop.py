"""DPoP on HTTP routes, RFC 9449 §7 (the DPoP header) and §8 (the DPoP-Nonce header).

The HTTP layer's side of :mod:`sessile.dpop.proof`: read the ``DPoP`` headers,
build the endpoint URL from the configured public URL, and put a fresh
``DPoP-Nonce`` on every response of a DPoP route, success or failure::

    proof = await dpop.verify(request)  # htu: the public URL of the matched route
    ...
    return JSONResponse(body, headers=await dpop.nonce_headers())

and for any :class:`~sessile.errors.SessileError` raised on that route::

    return await dpop.error_response(error)

A route declared with :class:`DPoPRoute` gets both for free: its answer, or its
error's, carries ``DPoP-Nonce``. :func:`dpop_of` finds the app's verifier.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from joserfc.util import urlsafe_b64decode
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from sessile.clock import Clock
from sessile.config import Settings
from sessile.dpop.nonce import NonceIssuer
from sessile.dpop.proof import ProofPolicy, ValidatedProof, check_proof, validate_proof
from sessile.dpop.replay_cache import ReplayStore
from sessile.errors import InvalidDPoPProof, SessileError
from sessile.http.context import context_of
from sessile.http.errors import error_response

__all__ = [
    "NONCE_SECRET_NAME",
    "DPoPRoute",
    "DPoPVerifier",
    "SecretSource",
    "challenge_proof_record",
    "dpop_of",
    "endpoint_path",
]

#: The :class:`~sessile.shared_secrets.SharedSecrets` name of the nonce HMAC key.
NONCE_SECRET_NAME = "dpop-nonce"


def endpoint_path(request: Request) -> str:
    """The path of the route that matched ``request``: the endpoint its proof's ``htu``
    must name, so no route restates its own path."""
    path = getattr(request.scope.get("route"), "path", None)
    if not isinstance(path, str):
        raise RuntimeError("a DPoP proof is checked inside a route")
    return path


def challenge_proof_record(proof: ValidatedProof, signature: bytes) -> str:
    """The replay record of a step-up proof, beside its key's thumbprint: its ``jti`` and
    a digest of what it says (``jti``, ``htm``, ``htu``, ``iat``) and of which signing made
    it (``signature``, the JWS signature's bytes).

    Never a digest of the proof's text: an ECDSA signature ``(r, s)`` has a twin
    ``(r, n - s)`` that anyone can compute and that verifies as well. For the same claims
    and key, ``r`` fixes ``s`` up to that sign, so ``r`` alone tells one ECDSA signing from
    another; the other algorithms a proof may use have no such twin, and their whole
    signature tells it. Two signings of the same claims stay two proofs: Prelude's SDK
    signs the check of a corrected code with the same ``jti``, ``htm`` and ``htu``, and
    within the same second the same ``iat``.
    """
    signing = signature[: len(signature) // 2] if proof.jwk.get("kty") == "EC" else signature
    said = json.dumps([proof.jti, proof.htm, proof.htu, proof.iat, signing.hex()])
    digest = hashlib.sha256(said.encode()).hexdigest()[:40]
    # 200 + 1 + 40 characters fit the replay store's 255.
    return f"{proof.jti[:200]}:{digest}"


class SecretSource(Protocol):
    """What :class:`~sessile.shared_secrets.SharedSecrets` offers: a secret by name."""

    async def get(self, name: str) -> bytes: ...


class DPoPVerifier:
    """Checks the DPoP proof of a request and hands out the server's nonces."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock,
        secrets: SecretSource,
        replay: ReplayStore,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._secrets = secrets
        self._replay = replay
        self._policy = ProofPolicy.from_settings(settings)
        self._nonces: NonceIssuer | None = None

    async def nonces(self) -> NonceIssuer:
        """The nonce issuer, keyed with the secret every node shares."""
        if self._nonces is None:
            self._nonces = NonceIssuer(
                await self._secrets.get(NONCE_SECRET_NAME),
                step=self._settings.dpop_nonce_step,
                steps_accepted=self._settings.dpop_nonce_steps_accepted,
            )
        return self._nonces

    async def verify(self, request: Request, path: str | None = None) -> ValidatedProof:
        """Validate the request's proof for the endpoint at ``path`` under the public URL
        (by default the path of the route that matched the request).

        Raises a :class:`~sessile.errors.DPoPError`; answer it with
        :meth:`error_response` so the client gets a nonce to retry with.
        """
        return await validate_proof(
            request.headers.getlist("dpop"),
            method=request.method,
            url=self._settings.url(path or endpoint_path(request)),
            clock=self._clock,
            nonces=await self.nonces(),
            replay=self._replay,
            policy=self._policy,
        )

    async def check(self, request: Request, path: str | None = None) -> ValidatedProof:
        """:meth:`verify` without the replay check: for ``/refresh``, whose rotation
        carries the proof's replay check in its own write, and whose refusals spend the
        proof through the session service (DESIGN §3.7)."""
        return await self.check_headers(
            request.headers.getlist("dpop"),
            method=request.method,
            path=path or endpoint_path(request),
        )

    async def check_headers(
        self, headers: Sequence[str], *, method: str, path: str
    ) -> ValidatedProof:
        """:meth:`check` on the request's ``DPoP`` header values, for a route served
        without a :class:`~starlette.requests.Request` (:mod:`sessile.http.lane`)."""
        return check_proof(
            headers,
            method=method,
            url=self._settings.url(path),
            clock=self._clock,
            nonces=await self.nonces(),
            policy=self._policy,
        )

    @property
    def replay(self) -> ReplayStore:
        return self._replay

    async def verify_challenge_proof(
        self, request: Request, path: str | None = None
    ) -> ValidatedProof:
        """A step-up proof, whose ``jti`` is the challenge token's (DESIGN §12).

        Prelude's SDK signs these without a nonce and never retries them, so freshness
        rests on ``iat`` alone; and since every proof for one challenge token shares its
        ``jti`` (a mistyped code is sent again), replay is refused per signing of what the
        proof says (:func:`challenge_proof_record`), never per its bytes.
        """
        proof = check_proof(
            request.headers.getlist("dpop"),
            method=request.method,
            url=self._settings.url(path or endpoint_path(request)),
            clock=self._clock,
            nonces=await self.nonces(),
            policy=dataclasses.replace(self._policy, nonce_required=False),
        )
        # check_proof took exactly one header, a compact JWS whose signature verifies.
        signature = urlsafe_b64decode(request.headers["dpop"].strip().rsplit(".", 1)[1].encode())
        if not await self._replay.remember(
            proof.jkt,
            challenge_proof_record(proof, signature),
            expires_at=proof.expires_at,
            now=self._clock.now(),
        ):
            raise InvalidDPoPProof("The DPoP proof has been used before.")
        return proof

    async def nonce_headers(self) -> dict[str, str]:
        """``{"DPoP-Nonce": <current nonce>}``, for every response of a DPoP route."""
        nonces = await self.nonces()
        return {"DPoP-Nonce": nonces.issue(self._clock.now())}

    async def add_nonce(self, response: Response) -> Response:
        """Set ``DPoP-Nonce`` on a response built elsewhere; return it."""
        response.headers.update(await self.nonce_headers())
        return response

    async def error_response(self, error: SessileError) -> JSONResponse:
        """The usual JSON error response, plus ``DPoP-Nonce``."""
        return error_response(error, headers=await self.nonce_headers())


def dpop_of(request: HTTPConnection) -> DPoPVerifier:
    """The app's DPoP verifier: made from its context on first use, then kept."""
    state = request.app.state
    try:
        verifier: DPoPVerifier = state.dpop
    except AttributeError:
        context = context_of(request)
        verifier = state.dpop = DPoPVerifier(
            context.settings,
            clock=context.clock,
            secrets=context.shared_secrets,
            replay=context.replay,
        )
    return verifier


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class DPoPRoute(APIRoute):
    """A route whose every response, success or error, carries ``DPoP-Nonce``."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def with_nonce(request: Request) -> Response:
            return await self.answer(request, handle)

        return with_nonce

    @staticmethod
    async def answer(request: Request, handle: Handler) -> Response:
        """``handle``'s response, or its :class:`SessileError`'s, with ``DPoP-Nonce``."""
        dpop = dpop_of(request)
        try:
            response = await handle(request)
        except SessileError as error:
            return await dpop.error_response(error)
        return await dpop.add_nonce(response)
