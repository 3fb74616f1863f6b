"""Where settings come from, and in which order (DESIGN §9).

Precedence, highest first: explicit keyword arguments, environment variables,
the TOML file named by ``SESSILE_CONFIG`` (or passed to
:func:`~sessile.config.loading.load_settings`), then the defaults of
:class:`~sessile.config.settings.Settings`. A social-login provider's fields merge
field by field: ``SESSILE_OAUTH_<PROVIDER>_<FIELD>`` over ``[oauth.<provider>]``.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, TomlConfigSettingsSource

from sessile import oauth_config

__all__ = ["oauth_from_environ", "ordered_sources", "toml_override"]

#: A TOML file named by the caller of load_settings, ahead of SESSILE_CONFIG.
toml_override: ContextVar[str | None] = ContextVar("sessile_toml_override", default=None)


def ordered_sources(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The sources of ``settings_cls``, highest first: arguments, environment, TOML file."""
    toml_file = toml_override.get() or os.environ.get("SESSILE_CONFIG")
    sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
    if toml_file:
        sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
    return tuple(sources)


def oauth_from_environ(data: Any) -> Any:
    """``SESSILE_OAUTH_<PROVIDER>_<FIELD>`` over ``[oauth.<provider>]``, field by field."""
    from_env = oauth_config.from_environ(os.environ)
    if not from_env or not isinstance(data, dict):
        return data
    merged = {name: dict(fields) for name, fields in (data.get("oauth") or {}).items()}
    for name, fields in from_env.items():
        merged.setdefault(name, {}).update(fields)
    return {**data, "oauth": merged}
