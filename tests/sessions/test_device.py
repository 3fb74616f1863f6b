from __future__ import annotations

import pytest

from sessile.sessions.device import describe_device

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("ua", "kind", "model", "os_prefix", "browser"),
    [
        (IPHONE, "mobile", "Apple iPhone", "iOS 17.1", "Mobile Safari 17"),
        (IPAD, "tablet", "Apple iPad", "iOS 16.6", "Mobile Safari 16"),
        (WINDOWS_CHROME, "desktop", None, "Windows 10", "Chrome 120"),
        (PIXEL, "mobile", "Google Pixel 8", "Android 14", "Chrome Mobile 120"),
    ],
)
def test_user_agent(ua: str, kind: str, model: str | None, os_prefix: str, browser: str) -> None:
    device = describe_device(ua, {})
    assert device.device_type == kind
    assert device.device_model == model
    assert device.os_version is not None
    assert device.os_version.startswith(os_prefix)
    assert device.browser == browser


def test_client_hints_win() -> None:
    headers = {
        "sec-ch-ua-mobile": "?1",
        "sec-ch-ua-platform": '"Android"',
        "sec-ch-ua-platform-version": '"14.0.0"',
        "sec-ch-ua-model": '"SM-S918B"',
    }
    # Chrome's reduced UA says little; the hints say the rest.
    reduced = (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
    )
    device = describe_device(reduced, headers)
    assert device.device_type == "mobile"
    assert device.device_model == "SM-S918B"
    assert device.os_version == "Android 14.0.0"


def test_unknown_and_missing_user_agent() -> None:
    assert describe_device(None, {}).device_type == "unknown"
    assert describe_device("curl/8.5.0", {}).device_type == "unknown"
    assert describe_device("curl/8.5.0", {}).device_model is None


def test_user_agents_are_parsed_by_the_native_resolver() -> None:
    """ua-parser's pure-Python resolver takes about 0.6 ms for a User-Agent it has not seen
    (every new browser build that logs in): sessile installs its Rust one (``regex``)."""
    import ua_parser

    assert ua_parser.RegexResolver is not None
    assert ua_parser.BestAvailableResolver is ua_parser.RegexResolver
