"""The step-up configuration (``…/config/stepup``): which scopes a session may ask for, and
how each request is decided. Plain values in, plain values out; no I/O.

Each ``allowed_scopes`` entry names a scope and its mode:

- ``direct``: a static decision, ``{identifier_types, granted_for, steps}``. A scope may have
  several direct entries; the first whose ``identifier_types`` is empty or holds the type of
  one of the user's proven identifiers decides (e-mail users prove a code by e-mail, phone
  users by SMS).
- ``delegated``: the scope's ``delegation_hook`` on the app's backend decides each request.
- ``managed``: only the register scopes, ``prld:email:register`` and
  ``prld:phone:register``, whose code goes to the identifier being added.

The older shape (``signal_hook_url`` with ``allowed_scopes`` as plain strings) is read as
delegated entries to that hook. With no stored document, the ``SESSILE_STEPUP_*`` settings
give the configuration (:func:`default_config`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "GRANT_MODES",
    "MANAGED_STEPS",
    "REGISTER_SCOPES",
    "AllowedScope",
    "Decision",
    "Delegated",
    "Direct",
    "GrantMode",
    "Step",
    "StepKey",
    "StepUpConfig",
    "default_config",
]

GrantMode = Literal["single-use", "session-bound", "profile-bound"]
GRANT_MODES: tuple[GrantMode, ...] = ("single-use", "session-bound", "profile-bound")
IdentifierType = Literal["email_address", "phone_number"]

#: Steps sessile proves itself: a code to a proven e-mail address or phone number, or (a
#: sessile extension) the account's password. Any other key is the app's own, proven by a
#: verification token from its backend through ``/stepup/continue``.
MANAGED_STEPS: Mapping[str, IdentifierType | None] = {
    "verify_email": "email_address",
    "verify_sms": "phone_number",
    "verify_password": None,
}
#: The reserved scopes that add an identifier, and the identifier type each adds.
REGISTER_SCOPES: Mapping[str, IdentifierType] = {
    "prld:email:register": "email_address",
    "prld:phone:register": "phone_number",
}
#: The step of each register scope: a code to the identifier being added.
REGISTER_STEPS: Mapping[str, str] = {
    "prld:email:register": "verify_email",
    "prld:phone:register": "verify_sms",
}

_KEY = r"^[a-zA-Z0-9._:-]+$"
_DAY = 86_400
MAX_STEPS = 5


def _web_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http or https URL")
    return url


WebUrl = Annotated[str, Field(max_length=2048), AfterValidator(_web_url)]
ScopeName = Annotated[str, Field(min_length=1, max_length=100, pattern=_KEY)]
StepKeyName = Annotated[str, Field(min_length=1, max_length=64, pattern=_KEY)]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    order: int = Field(default=0, ge=0, le=1_000)
    key: StepKeyName
    #: Seconds the step may take once it is current; 0 leaves it to the challenge's lifetime.
    expiration_duration: int = Field(default=0, ge=0, le=_DAY)


class StepKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: StepKeyName
    description: str = Field(default="", max_length=500)


class Direct(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    identifier_types: list[IdentifierType] = Field(default_factory=list, max_length=2)
    granted_for: int = Field(ge=0, le=_DAY)
    steps: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)
    #: A sessile extension; Prelude's direct entries carry none and are session-bound.
    grant_mode: GrantMode = "session-bound"

    @model_validator(mode="after")
    def _check(self) -> Direct:
        if self.granted_for == 0 and self.grant_mode != "single-use":
            raise ValueError("granted_for must be more than 0 unless grant_mode is single-use")
        return self

    def ordered_steps(self) -> tuple[Step, ...]:
        return tuple(sorted(self.steps, key=lambda s: s.order))


class Delegated(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    delegation_hook: WebUrl


class AllowedScope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    scope: ScopeName
    mode: Literal["delegated", "direct", "managed"]
    delegated: Delegated | None = None
    direct: Direct | None = None

    @model_validator(mode="before")
    @classmethod
    def _infer_mode(cls, value: Any) -> Any:
        """An entry without ``mode`` (as in the API reference's example) takes the mode of
        the one decision it holds; a register scope is managed."""
        if isinstance(value, dict) and "mode" not in value:
            if value.get("scope") in REGISTER_SCOPES:
                return {**value, "mode": "managed"}
            held = [m for m in ("delegated", "direct") if value.get(m) is not None]
            if len(held) == 1:
                return {**value, "mode": held[0]}
        return value

    @model_validator(mode="after")
    def _check(self) -> AllowedScope:
        register = self.scope in REGISTER_SCOPES
        if register != (self.mode == "managed"):
            raise ValueError(
                f"{self.scope}: the managed mode is for exactly the register scopes "
                f"({', '.join(REGISTER_SCOPES)})"
            )
        if self.mode == "delegated" and self.delegated is None:
            raise ValueError(f"{self.scope}: mode delegated needs delegated.delegation_hook")
        if self.mode == "direct" and self.direct is None:
            raise ValueError(f"{self.scope}: mode direct needs direct")
        return self


class StepUpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    jwks_url: WebUrl | None = None
    step_keys: list[StepKey] = Field(default_factory=list, max_length=50)
    allowed_scopes: list[AllowedScope] = Field(max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _empty_jwks_url(cls, value: Any) -> Any:
        """``"jwks_url": ""`` is how Prelude's guides leave it out (all scopes direct)."""
        if isinstance(value, dict) and value.get("jwks_url") == "":
            return {**value, "jwks_url": None}
        return value

    @model_validator(mode="before")
    @classmethod
    def _older_shape(cls, value: Any) -> Any:
        """``{signal_hook_url, jwks_url, step_keys, allowed_scopes: [str]}``: every scope
        delegated to the one hook."""
        if not isinstance(value, dict) or "signal_hook_url" not in value:
            return value
        rest = {k: v for k, v in value.items() if k != "signal_hook_url"}
        hook = value["signal_hook_url"]
        scopes = rest.get("allowed_scopes")
        if isinstance(scopes, list):
            rest["allowed_scopes"] = [
                {"scope": s, "mode": "delegated", "delegated": {"delegation_hook": hook}}
                if isinstance(s, str) and s not in REGISTER_SCOPES
                else s
                for s in scopes
            ]
        rest["step_keys"] = [
            {"key": k} if isinstance(k, str) else k for k in rest.get("step_keys") or []
        ]
        return rest

    @model_validator(mode="after")
    def _check(self) -> StepUpConfig:
        declared = {k.key for k in self.step_keys}
        for entry in self.allowed_scopes:
            for step in entry.direct.steps if entry.direct else ():
                if step.key not in MANAGED_STEPS and step.key not in declared:
                    raise ValueError(
                        f"{entry.scope}: step {step.key!r} is neither managed "
                        f"({', '.join(MANAGED_STEPS)}) nor in step_keys"
                    )
        return self

    def check_written(self) -> None:
        """What the management API asks beyond the shape: a ``jwks_url`` wherever a scope
        is delegated (its hook may name custom steps, whose tokens are checked against
        it). Raises ``ValueError``."""
        if self.jwks_url is None and any(e.mode == "delegated" for e in self.allowed_scopes):
            raise ValueError("jwks_url is required when a scope is delegated")

    def entries(self, scope: str) -> list[AllowedScope]:
        return [e for e in self.allowed_scopes if e.scope == scope]

    def view(self) -> dict[str, Any]:
        """The document as the management API answers it (every entry with its mode)."""
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class Decision:
    """How a request is answered: at once (``continue``), with steps (``review``), or not."""

    status: Literal["continue", "review", "block"]
    steps: tuple[Step, ...] = ()
    grant_mode: GrantMode = "session-bound"
    granted_for: int = 0


def direct_decision(
    entries: Iterable[AllowedScope], proven_types: Iterable[str]
) -> Decision | None:
    """The first direct entry that fits the user's proven identifier types, or None."""
    held = set(proven_types)
    for entry in entries:
        direct = entry.direct
        if direct is None:
            continue
        if direct.identifier_types and not held.intersection(direct.identifier_types):
            continue
        steps = direct.ordered_steps()
        return Decision(
            "review" if steps else "continue",
            steps,
            grant_mode=direct.grant_mode,
            granted_for=direct.granted_for,
        )
    return None


def default_config(
    scopes: Mapping[str, Sequence[str]],
    *,
    grant_ttl: int,
    hook_url: str | None,
    jwks_url: str | None,
) -> StepUpConfig:
    """The configuration the settings give: each scope of ``SESSILE_STEPUP_SCOPES`` direct
    with its steps (or delegated to ``SESSILE_STEPUP_HOOK_URL`` when one is set), and both
    register scopes managed. No scope at all turns step-up off, register scopes too (as
    Prelude's need a step-up configuration)."""
    entries: list[dict[str, Any]] = []
    if not scopes:
        return StepUpConfig(allowed_scopes=[])
    for scope, steps in scopes.items():
        if scope in REGISTER_SCOPES:
            continue
        if hook_url is not None:
            entries.append(
                {"scope": scope, "mode": "delegated", "delegated": {"delegation_hook": hook_url}}
            )
            continue
        entries.append(
            {
                "scope": scope,
                "mode": "direct",
                "direct": {
                    "granted_for": grant_ttl,
                    "steps": [{"order": i + 1, "key": key} for i, key in enumerate(steps)],
                },
            }
        )
    entries += [{"scope": scope, "mode": "managed"} for scope in REGISTER_SCOPES]
    return StepUpConfig.model_validate(
        {"jwks_url": jwks_url, "step_keys": [], "allowed_scopes": entries}
    )
