"""RFC 3986 §6.2.2 and §6.2.3 normalisation, as used for ``htu`` (RFC 9449 §4.3)."""

from __future__ import annotations

import pytest

from sessile.dpop import normalize_htu


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://a.test/x", "https://a.test/x"),
        ("HTTPS://A.Test/x", "https://a.test/x"),
        ("https://a.test:443/x", "https://a.test/x"),
        ("http://a.test:80/x", "http://a.test/x"),
        ("https://a.test:/x", "https://a.test/x"),
        ("http://a.test:443/x", "http://a.test:443/x"),
        ("https://a.test", "https://a.test/"),
        ("https://a.test/x?q=1#f", "https://a.test/x"),
        ("https://a.test/%7Euser/%61", "https://a.test/~user/a"),
        ("https://a.test/a%2fb", "https://a.test/a%2Fb"),
        ("https://a.test/a/./b/../c", "https://a.test/a/c"),
        ("https://a.test/a/b/..", "https://a.test/a/"),
        ("https://a.test/../../x", "https://a.test/x"),
        ("https://a.test/a/%2E%2E/b", "https://a.test/b"),
        ("https://a.test/X", "https://a.test/X"),
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
        ("https://127.0.0.1:8000/x", "https://127.0.0.1:8000/x"),
    ],
)
def test_normal_form(url: str, normal: str) -> None:
    assert normalize_htu(url) == normal


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/relative",
        "ftp://a.test/x",
        "https:///x",
        "https://u:p@a.test/x",
        "https://a.test:99999/x",
        "https://a.test:x/x",
        "https://a.test/%zz",
        "https://a.test/a b",
        "https://a.test/\tx",
        "https://a.test/é",
    ],
)
def test_not_an_htu(url: str) -> None:
    assert normalize_htu(url) is None
