"""Text that every store, every response and every token reader keeps as it is.

PostgreSQL's ``text`` and ``jsonb`` hold no NUL, and UTF-8 (every store's encoding and
every response's) has no lone surrogate, which a JSON escape such as ``"\\ud800"`` gives
Python. A string holding either fails the statement that stores it or the response that
shows it, or rides in a signed token that strict JSON readers refuse; so what is stored,
shown or signed is checked with :func:`unstorable_path` when it comes in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["storable", "unstorable_path"]

# Python's JSON reader joins an escaped surrogate pair into one code point, so any
# surrogate left in a string stands alone.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Whether ``text`` holds neither a NUL character nor a lone surrogate."""
    return _UNSTORABLE.search(text) is None


def unstorable_path(value: Any, path: str = "") -> str | None:
    """Where in a JSON value (member names included) the first string that is not
    :func:`storable` sits, as ``a.b[2]``; None when every string is."""
    if isinstance(value, str):
        return None if _UNSTORABLE.search(value) is None else (path or "value")
    if isinstance(value, dict | Mapping):
        for name, member in value.items():
            if isinstance(name, str) and _UNSTORABLE.search(name) is not None:
                # Named by where it sits: the name itself can't go into a message.
                return path or "a member name"
            found = unstorable_path(member, f"{path}.{name}" if path else str(name))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unstorable_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
