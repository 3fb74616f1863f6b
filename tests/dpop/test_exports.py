"""The public API of sessile.dpop is exactly this; growing it is a decision, not an accident."""

from __future__ import annotations

import sessile.dpop


def test_public_api() -> None:
    assert sorted(sessile.dpop.__all__) == [
        "NonceIssuer",
        "ProofPolicy",
        "ReplayStore",
        "ValidatedProof",
        "check_proof",
        "normalize_htu",
        "validate_proof",
    ]
    for name in sessile.dpop.__all__:
        assert getattr(sessile.dpop, name) is not None
