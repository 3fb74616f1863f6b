"""docs/prelude-compat.md names a test for every row; each must exist, so the page can't
drift from the suite. A pytest test is ``file::function``; a Node test ``file::title``."""

from __future__ import annotations

import re

from tests.doc_references import ROOT, exists, missing

PAGE = ROOT / "docs" / "prelude-compat.md"
#: ``tests/….py::name`` or ``tests/….mjs::title`` up to the end of its table cell or list.
_REFERENCE = re.compile(r"(tests/[\w/.-]+\.(?:py|mjs))::([^|,]+?)\s*(?=\||,\s*tests/|$)", re.M)


def references() -> list[tuple[str, str | None]]:
    return [(path, name.strip()) for path, name in _REFERENCE.findall(PAGE.read_text())]


def test_every_test_the_page_names_exists() -> None:
    found = references()
    assert len(found) > 150, "the page names a test on every row"
    assert missing(found) == []


def test_the_check_would_catch_a_renamed_test() -> None:
    assert not exists("tests/conformance/test_frontend_api.py", "test_no_such_test")
    assert not exists("tests/prelude/stepup.test.mjs", "a title nobody wrote")
    assert exists("tests/prelude/stepup.test.mjs", "two browsers log in by code as the same user")
