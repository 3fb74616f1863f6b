"""DPoP, RFC 9449: proof validation, server nonces and the replay cache's interface.

Protocol only: plain values and a clock in, typed results out. Routes check proofs with
``sessile.http.dpop.DPoPVerifier``; the replay stores live in ``sessile.store.replay``.
"""

from sessile.dpop.htu import normalize_htu
from sessile.dpop.nonce import NonceIssuer
from sessile.dpop.proof import ProofPolicy, ValidatedProof, check_proof, validate_proof
from sessile.dpop.replay_cache import ReplayStore

__all__ = [
    "NonceIssuer",
    "ProofPolicy",
    "ReplayStore",
    "ValidatedProof",
    "check_proof",
    "normalize_htu",
    "validate_proof",
]
