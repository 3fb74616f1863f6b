from __future__ import annotations

import re

import pytest

from sessile.dpop import NonceIssuer
from tests.dpop.conftest import T0

SECRET = b"k" * 32


def test_nonce_is_base64url_and_stable_within_a_step() -> None:
    nonces = NonceIssuer(SECRET, step=60, steps_accepted=3)
    nonce = nonces.issue(T0)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", nonce)
    assert nonces.issue(T0 + 59.9) == nonce
    assert nonces.issue(T0 + 60) != nonce


def test_accepted_for_its_step_and_the_previous_ones() -> None:
    nonces = NonceIssuer(SECRET, step=60, steps_accepted=3)
    nonce = nonces.issue(T0 + 30)
    for now in (T0, T0 + 59, T0 + 60, T0 + 179.999):
        assert nonces.valid_until(nonce, now) == T0 + 180
    assert nonces.valid_until(nonce, T0 + 180) is None


def test_a_nonce_from_the_next_step_is_accepted() -> None:
    # A node whose clock is a little behind must accept its peers' nonces.
    nonces = NonceIssuer(SECRET, step=60, steps_accepted=3)
    ahead = nonces.issue(T0 + 60)
    assert nonces.valid_until(ahead, T0 + 59) == T0 + 240
    assert nonces.valid_until(nonces.issue(T0 + 120), T0 + 59) is None


def test_another_secret_makes_other_nonces() -> None:
    mine = NonceIssuer(SECRET)
    theirs = NonceIssuer(b"o" * 32)
    assert theirs.valid_until(mine.issue(T0), T0) is None


@pytest.mark.parametrize("nonce", ["", "x", "é" * 43, "\udcff" * 43, "A" * 10_000])
def test_garbage_is_unknown(nonce: str) -> None:
    assert NonceIssuer(SECRET).valid_until(nonce, T0) is None


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        NonceIssuer(b"short")
