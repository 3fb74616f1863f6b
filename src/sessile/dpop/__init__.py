"""DPoP, RFC 9449: proof validation, server nonces, and the replay cache.

An endpoint uses :class:`DPoPVerifier`; the pure checks live in
:func:`check_proof` and :func:`validate_proof`.
"""

from sessile.dpop.http import NONCE_SECRET_NAME, DPoPVerifier, SecretSource, create_replay_store
from sessile.dpop.htu import normalize_htu
from sessile.dpop.nonce import NonceIssuer
from sessile.dpop.proof import ProofPolicy, ValidatedProof, check_proof, validate_proof
from sessile.dpop.replay import RedisReplayStore, ReplayStore, SqlReplayStore

__all__ = [
    "NONCE_SECRET_NAME",
    "DPoPVerifier",
    "NonceIssuer",
    "ProofPolicy",
    "RedisReplayStore",
    "ReplayStore",
    "SecretSource",
    "SqlReplayStore",
    "ValidatedProof",
    "check_proof",
    "create_replay_store",
    "normalize_htu",
    "validate_proof",
]
