"""Stateless DPoP server nonces, RFC 9449 §8 (nonce from the server) and §11.1.

A nonce is ``base64url(HMAC-SHA256(secret, time step))``. Every node derives
the same nonce from the shared secret, so no node stores any. A nonce is
accepted during its own step and the ``steps_accepted - 1`` steps after it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math

__all__ = ["NonceIssuer"]

# A nonce is 43 base64url characters; anything much longer is not one of ours.
_MAX_NONCE_LENGTH = 128


class NonceIssuer:
    def __init__(self, secret: bytes, *, step: int = 60, steps_accepted: int = 3) -> None:
        if len(secret) < 32:
            raise ValueError("the nonce secret must be at least 32 bytes")
        if step < 1 or steps_accepted < 1:
            raise ValueError("step and steps_accepted must be positive")
        self._secret = secret
        # The nonces of the last few steps: each is an HMAC, asked for on every request.
        self._recent: dict[int, str] = {}
        self.step = step
        self.steps_accepted = steps_accepted

    def _index(self, now: float) -> int:
        return math.floor(now / self.step)

    def _nonce(self, index: int) -> str:
        nonce = self._recent.get(index)
        if nonce is None:
            mac = hmac.new(self._secret, b"sessile/dpop-nonce/%d" % index, hashlib.sha256).digest()
            nonce = base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
            if len(self._recent) > 4 * (self.steps_accepted + 2):
                self._recent.clear()
            self._recent[index] = nonce
        return nonce

    def issue(self, now: float) -> str:
        """The nonce of the current time step."""
        return self._nonce(self._index(now))

    def valid_until(self, nonce: str, now: float) -> float | None:
        """When ``nonce`` stops being accepted, or None if it is unknown or expired.

        The step after the current one is accepted too: nodes' clocks differ a
        little, and a nonce from a node already in the next step must not send
        the client (which retries only once) into a second ``use_dpop_nonce``.
        """
        if len(nonce) > _MAX_NONCE_LENGTH:
            return None
        presented = nonce.encode("utf-8", "surrogatepass")
        current = self._index(now)
        found: int | None = None
        for index in range(current + 1, current - self.steps_accepted, -1):
            # Check every candidate, so the time taken doesn't tell which step matched.
            if hmac.compare_digest(presented, self._nonce(index).encode("ascii")):
                found = index
        if found is None:
            return None
        return float((found + self.steps_accepted) * self.step)
