from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.live import LiveServer, live_server

#: Every login and step code of a module comes from 127.0.0.1: no per-address limit here.
MANY = {"SESSILE_OTP_RATE_PER_IP": "10000/minute"}

SCOPES = {
    "prld:pwd:write": ["verify_email"],
    "two:steps": ["verify_email", "verify_password"],
    "password:only": ["verify_password"],
    "sms:only": ["verify_sms"],
    "at:once": [],
    # sessile's older step names still read as Prelude's.
    "older:names": ["email_otp"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server with the reserved scopes and a few more to test steps with."""
    env = {"SESSILE_STEPUP_SCOPES": json.dumps(SCOPES), **MANY}
    with live_server(tmp_path_factory.mktemp("stepup"), env=env) as live:
        yield live


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Challenges that last 2 s and grants that last 4 s."""
    env = {"SESSILE_STEPUP_CHALLENGE_TTL": "2", "SESSILE_STEPUP_GRANT_TTL": "4", **MANY}
    with live_server(tmp_path_factory.mktemp("stepup-short"), env=env) as live:
        yield live
