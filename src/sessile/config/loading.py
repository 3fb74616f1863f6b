"""Loading the settings: :func:`load_settings` validates every value at once and turns
the failures into one :class:`ConfigError` that names each bad setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sessile.config.settings import Settings
from sessile.config.sources import toml_override

__all__ = ["ConfigError", "load_settings"]


class ConfigError(Exception):
    """Raised when the settings can't be loaded; the message names each bad setting."""


def load_settings(toml_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Load and validate; raise :class:`ConfigError` naming each bad setting."""
    if toml_file is not None and not Path(toml_file).is_file():
        raise ConfigError(f"config file {toml_file}: not found")
    token = toml_override.set(str(toml_file) if toml_file is not None else None)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            location = "_".join(str(part) for part in error["loc"]) or "settings"
            name = f"SESSILE_{location.upper()}" if error["loc"] else location
            lines.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    finally:
        toml_override.reset(token)
