"""A service's policy: the slice of the settings it uses, as a dataclass of its own."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from sessile.config.settings import Settings

__all__ = ["policy_from"]

Policy = TypeVar("Policy")


def policy_from(settings: Settings, cls: type[Policy]) -> Policy:
    """A service's policy: dataclass ``cls``, its fields read from the settings of the same
    names, so a service gets what it uses and nothing else."""
    assert dataclasses.is_dataclass(cls)
    return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})
