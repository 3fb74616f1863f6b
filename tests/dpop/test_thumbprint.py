"""RFC 7638's own example pins the thumbprint the tests expect of every proof's ``jkt``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.dpop.proofs import rfc7638

VECTORS = Path(__file__).parent.parent / "vectors"


def test_rfc7638_section_3_1_example() -> None:
    jwk = json.loads((VECTORS / "rfc7638_3.1_jwk.json").read_text())
    assert rfc7638(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_optional_members_do_not_change_the_thumbprint() -> None:
    jwk = json.loads((VECTORS / "rfc7638_3.1_jwk.json").read_text())
    bare = {name: jwk[name] for name in ("kty", "n", "e")}
    assert rfc7638(bare) == rfc7638({**jwk, "use": "sig"})
