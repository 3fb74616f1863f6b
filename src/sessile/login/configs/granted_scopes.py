"""The scopes a login configuration grants to the sessions its logins make (Prelude's
``granted_scopes`` on OTP and OAuth login configs, PRELUDE-API §3.3).

They land on the session as a step-up's grant does (``sessions.granted_scope``, space
separated), so all of them together fit that column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import StringConstraints

__all__ = ["CHANGE_PASSWORD", "MAX_GRANTED_CHARS", "GrantedScope", "checked_scopes"]

#: The scope Prelude's old ``grant_change_password: true`` stands for.
CHANGE_PASSWORD = "prld:pwd:write"
#: The session keeps its granted scopes in 100 characters.
MAX_GRANTED_CHARS = 100

#: Prelude's scope charset (``/stepup/request``'s pattern).
GrantedScope = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9.\-_:]{1,100}$")]


def checked_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """``scopes`` without repeats, in order; ValueError when together they don't fit."""
    unique = tuple(dict.fromkeys(scopes))
    if len(" ".join(unique)) > MAX_GRANTED_CHARS:
        raise ValueError(
            f"granted_scopes: at most {MAX_GRANTED_CHARS} characters together, joined by spaces"
        )
    return unique
