from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from sessile.clock import FixedClock
from sessile.dpop import NonceIssuer, ProofPolicy, ValidatedProof, validate_proof
from tests.dpop.proofs import URL, ProofKey

# A time at the start of a nonce step, so step arithmetic in tests is exact.
T0 = 60.0 * 28_333_334


@dataclass
class SpyReplayStore:
    """An in-memory replay store that records every call."""

    records: dict[tuple[str, str], float] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def remember(self, jkt: str, jti: str, *, expires_at: float, now: float) -> bool:
        self.calls.append((jkt, jti))
        current = self.records.get((jkt, jti))
        if current is not None and current >= now:
            return False
        self.records[(jkt, jti)] = expires_at
        return True


@dataclass
class Validator:
    """validate_proof with the test's clock, nonces, spy and policy filled in."""

    clock: FixedClock
    nonces: NonceIssuer
    replay: SpyReplayStore
    policy: ProofPolicy

    async def __call__(
        self,
        headers: Sequence[str],
        *,
        method: str = "POST",
        url: str = URL,
        policy: ProofPolicy | None = None,
        **kwargs: Any,
    ) -> ValidatedProof:
        return await validate_proof(
            headers,
            method=method,
            url=url,
            clock=self.clock,
            nonces=self.nonces,
            replay=self.replay,
            policy=policy or self.policy,
            **kwargs,
        )

    def nonce(self) -> str:
        return self.nonces.issue(self.clock.now())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def key() -> ProofKey:
    return ProofKey()


@pytest.fixture
def validator(clock: FixedClock) -> Validator:
    return Validator(
        clock=clock,
        nonces=NonceIssuer(b"n" * 32, step=60, steps_accepted=3),
        replay=SpyReplayStore(),
        policy=ProofPolicy(),
    )
