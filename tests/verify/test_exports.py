"""The public API of sessile.verify is exactly this; growing it is a decision, not an accident."""

from __future__ import annotations

import subprocess
import sys

import sessile.verify


def test_public_api() -> None:
    assert sorted(sessile.verify.__all__) == [
        "AsyncVerifier",
        "BadSignature",
        "Claims",
        "ExpiredToken",
        "FeedStats",
        "InsufficientScope",
        "InvalidAudience",
        "InvalidClaim",
        "InvalidIssuer",
        "InvalidToken",
        "KeysUnavailable",
        "MissingToken",
        "RevocationFeed",
        "RevokedToken",
        "TokenError",
        "TokenNotYetValid",
        "UnknownKey",
        "UnsupportedAlgorithm",
        "Verifier",
        "WebhookBatch",
        "WebhookError",
        "WebhookKeys",
        "verify_webhook",
    ]
    for name in sessile.verify.__all__:
        assert getattr(sessile.verify, name) is not None


def test_importing_needs_no_web_framework() -> None:
    code = "import sys, sessile.verify; print(sorted({'flask', 'fastapi'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_every_error_has_a_distinct_code() -> None:
    errors = [getattr(sessile.verify, n) for n in sessile.verify.__all__]
    errors = [e for e in errors if isinstance(e, type) and issubclass(e, sessile.verify.TokenError)]
    codes = [e.code for e in errors if e is not sessile.verify.TokenError]
    assert len(codes) == len(set(codes)) == 13
    others = (sessile.verify.KeysUnavailable, sessile.verify.InsufficientScope)
    assert all(e.status == 401 for e in errors if e not in others)
    assert sessile.verify.InsufficientScope.status == 403
