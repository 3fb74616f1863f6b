"""The tests a documentation page names, and whether each exists, so that a page's tables
can't drift from the suite (docs/prelude-compat.md, docs/security.md).

A pytest test is ``file::function``; a Node test ``file::title``; a file alone names the
whole file. Paths start at the repository (``tests/…``) or at ``tests/``.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["ROOT", "code_span_references", "exists", "missing"]

ROOT = Path(__file__).parent.parent
TESTS = ROOT / "tests"

#: A test file's path: ``….py`` or ``….mjs``, perhaps a glob (``tests/browser/*.test.mjs``).
_FILE = r"[\w/.*-]+\.(?:py|mjs)"
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_SPAN_REFERENCE = re.compile(rf"^(?:(?P<file>{_FILE}))?(?:::(?P<name>[\w\[\]-]+))?$")


def _path(file: str) -> Path:
    return ROOT / file if file.startswith("tests/") else TESTS / file


def exists(file: str, name: str | None = None) -> bool:
    """Whether ``file`` (a glob matches any file) holds the test ``name`` (None: the file)."""
    paths = sorted(_path(file).parent.glob(_path(file).name))
    if name is None:
        return bool(paths)
    if len(paths) != 1:
        return False
    text = paths[0].read_text()
    if file.endswith(".py"):
        return re.search(rf"^(async )?def {re.escape(name)}\(", text, re.M) is not None
    return f'it("{name}"' in text or f"it('{name}'" in text


def code_span_references(text: str) -> list[tuple[str, str | None]]:
    """Every ``file::test``, ``file`` and ``::test`` in the page's code spans, as (file,
    test or None). ``::test`` is a test of the last file named before it on its line."""
    found: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        current = None
        for span in _CODE_SPAN.findall(line):
            match = _SPAN_REFERENCE.match(span.strip())
            if match is None or not (match["file"] or match["name"]):
                continue
            if match["file"]:
                current = match["file"]
            elif current is None:
                found.append(("(no file before it)", match["name"]))
                continue
            found.append((current, match["name"]))
    return found


def missing(references: list[tuple[str, str | None]]) -> list[str]:
    """The references that name no existing file or test, as ``file::test``."""
    return [
        f"{file}::{name}" if name else file for file, name in references if not exists(file, name)
    ]
