"""Request bodies on a live server: deep nesting is a 400, never a crash (``http/bodies.py``)."""

from __future__ import annotations

import httpx
import pytest

from tests.live import LiveServer

START = "/v1/session/login/otp"
DEPTH = 5_000  # far past Python's recursion limit, far under the body-size limit


def _post(server: LiveServer, body: str) -> httpx.Response:
    return httpx.post(
        server.url + START,
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * DEPTH + "]" * DEPTH, id="array"),
        pytest.param('{"identifier": ' + '{"a": ' * DEPTH + "1" + "}" * (DEPTH + 1), id="object"),
    ],
)
def test_deeply_nested_json_is_a_bad_request(server: LiveServer, body: str) -> None:
    response = _post(server, body)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "code": "bad_request",
        "type": "bad_request",
        "status": "bad_request",
        "message": "The body nests deeper than 32 levels.",
    }
    log = server.server.output()
    assert "Traceback" not in log
    assert "RecursionError" not in log


def test_nesting_within_the_bound_is_read(server: LiveServer) -> None:
    nested = '{"a": ' * 30 + "1" + "}" * 30
    response = _post(server, '{"identifier": ' + nested + "}")
    # Parsed, then refused by the identifier rules rather than by the depth bound.
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_identifier"


def test_brackets_inside_strings_do_not_count(server: LiveServer) -> None:
    value = "[{" * 100
    response = _post(server, f'{{"identifier": {{"type": "email_address", "value": "{value}"}}}}')
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_identifier"
