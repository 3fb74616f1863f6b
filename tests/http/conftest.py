from __future__ import annotations

from tests.apps import AppClient

__all__ = ["AppClient"]
