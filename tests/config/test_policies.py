from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from sessile.config import load_settings
from sessile.config.policies import policy_from
from sessile.login.email_password import PasswordLoginPolicy
from sessile.notices import NoticeTexts
from sessile.stepup.service import StepUpPolicy


@pytest.mark.parametrize("policy", [NoticeTexts, PasswordLoginPolicy, StepUpPolicy])
def test_a_service_policy_reads_the_settings_of_its_field_names(policy: type[Any]) -> None:
    settings = load_settings(secret_key="s" * 48, password_signup=False, stepup_grant_ttl=77)
    made = policy_from(settings, policy)
    for field in dataclasses.fields(policy):
        assert getattr(made, field.name) == getattr(settings, field.name)


def test_a_policy_field_the_settings_lack_fails_at_once() -> None:
    @dataclasses.dataclass(frozen=True)
    class Unknown:
        no_such_setting: int

    with pytest.raises(AttributeError):
        policy_from(load_settings(secret_key="s" * 48), Unknown)
