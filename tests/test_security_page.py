"""docs/security.md names the test that proves each requirement; each must exist, so the
page can't drift from the suite."""

from __future__ import annotations

from tests.doc_references import ROOT, code_span_references, exists, missing

PAGE = ROOT / "docs" / "security.md"


def test_every_test_the_page_names_exists() -> None:
    found = code_span_references(PAGE.read_text())
    assert len(found) > 80, "the page names a test on nearly every row"
    assert missing(found) == []


def test_the_check_would_catch_a_renamed_test() -> None:
    row = (
        "| 9.1.3 | keys | `verify/test_verifier.py::test_an_oct_key_in_the_jwks_is_ignored`,"
        " `::test_no_such_test`, `dpop/test_fuzz.py::test_bound_key_must_match`,"
        " `dpop/test_proof.py`, `tests/browser/*.test.mjs`, `tests/nowhere/*.test.mjs` |"
    )
    assert missing(code_span_references(row)) == [
        "verify/test_verifier.py::test_no_such_test",
        "dpop/test_fuzz.py::test_bound_key_must_match",
        "tests/nowhere/*.test.mjs",
    ]
    assert exists("sessions/test_flow.py", "test_a_proof_from_another_key_is_a_key_mismatch")
