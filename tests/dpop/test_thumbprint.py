from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessile.dpop import jwk_thumbprint

VECTORS = Path(__file__).parent.parent / "vectors"


def test_rfc7638_section_3_1_example() -> None:
    jwk = json.loads((VECTORS / "rfc7638_3.1_jwk.json").read_text())
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_optional_members_do_not_change_the_thumbprint() -> None:
    jwk = json.loads((VECTORS / "rfc7638_3.1_jwk.json").read_text())
    bare = {name: jwk[name] for name in ("kty", "n", "e")}
    assert jwk_thumbprint(bare) == jwk_thumbprint({**jwk, "use": "sig"})


@pytest.mark.parametrize("jwk", [{}, {"kty": "EC"}, {"kty": "nope"}])
def test_unusable_jwk(jwk: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="not a usable JWK"):
        jwk_thumbprint(jwk)
