"""Settings: ``SESSILE_*`` environment variables, or a TOML file (DESIGN §9).

Every value is validated when the server starts; a bad one stops it with a message
that names the setting. :mod:`~sessile.config.settings` holds the settings and their
defaults, :mod:`~sessile.config.validators` the checks of single values,
:mod:`~sessile.config.sources` where values come from and in which order,
:mod:`~sessile.config.loading` the entry point, and :mod:`~sessile.config.policies`
the slices of the settings that services take.
"""

from sessile.config.loading import ConfigError, load_settings
from sessile.config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
