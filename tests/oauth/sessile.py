"""sessile on loopback with social login turned on, for the tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.live import LiveServer, live_server
from tests.oauth.browser import APP_CALLBACK

__all__ = ["OAUTH_ENV", "oauth_server"]

#: Plain http on loopback: the binder cookie can't be Secure, so development cookies.
OAUTH_ENV = {
    "SESSILE_OAUTH_REDIRECT_URIS": APP_CALLBACK,
    "SESSILE_COOKIE_INSECURE_DEV": "true",
    "SESSILE_COOKIE_NAME": "sessile_refresh",
}


@contextlib.contextmanager
def oauth_server(
    data_dir: Path, port: int, env: Mapping[str, str], database_url: str | None = None
) -> Iterator[LiveServer]:
    with live_server(data_dir, database_url, env={**OAUTH_ENV, **env}, port=port) as live:
        yield live
