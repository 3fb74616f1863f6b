"""What every store, response and token reader keeps: no NUL, no lone surrogate."""

from __future__ import annotations

import json

from sessile.storable import storable, unstorable_path


def test_storable_text() -> None:
    assert storable("gold ★ \U0001f31f é")
    assert storable(json.loads('"\\ud83c\\udf1f"'))  # a pair is one character
    for text in ("a\x00b", "\ud800", "x\udfff", json.loads('"\\udbff"')):
        assert not storable(text)


def test_where_in_a_json_value() -> None:
    assert unstorable_path({"a": [1, "ok", {"b": None}]}) is None
    assert unstorable_path({"a": [1, "ok", {"b": "\x00"}]}) == "a[2].b"
    assert unstorable_path({"a": {"b\ud800": 1}}) == "a"
    assert unstorable_path({"b\ud800": 1}) == "a member name"
    assert unstorable_path("\x00", "claims") == "claims"
    assert unstorable_path(["\x00"]) == "[0]"
