"""A disabled user can't log in, by any way in; a missing user neither."""

from __future__ import annotations

import pytest

from sessile.errors import Unauthorized
from sessile.login.admission import CANT_LOG_IN, admitted, may_log_in
from sessile.store.users import User


def _user(disabled_at: float | None) -> User:
    return User("usr_1", {}, None, 1.0, 1.0, disabled_at, ())


def test_an_enabled_user_is_admitted() -> None:
    user = _user(None)
    assert may_log_in(user)
    assert admitted(user) is user


@pytest.mark.parametrize("user", [_user(5.0), None])
def test_a_disabled_or_missing_user_is_not(user: User | None) -> None:
    assert not may_log_in(user)
    with pytest.raises(Unauthorized) as refused:
        admitted(user)
    assert refused.value.message == CANT_LOG_IN
