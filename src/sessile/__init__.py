"""sessile: self-hosted sessions with short-lived JWTs and DPoP-bound refresh tokens.

The server is ``sessile serve`` (``sessile.http.app.create_app``); backends use
``sessile.verify``; scripts and services use ``sessile.client``. This module stays
light, so that importing either of those loads no web framework or database driver.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
