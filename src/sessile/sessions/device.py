"""Device facts from the User-Agent (ua-parser) and User-Agent Client Hints (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ua_parser import parse

__all__ = ["Device", "describe_device", "warm_device_rules"]

_DESKTOP_OS = {"Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Chrome OS", "ChromeOS", "Fedora"}
_TABLET_HINTS = ("iPad", "Tablet", "Kindle", "Silk", "PlayBook")


@dataclass(frozen=True)
class Device:
    device_type: str  # desktop | mobile | tablet | unknown
    device_model: str | None
    os_version: str | None
    browser: str | None


def _hint(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    value = value.strip().strip('"').strip()
    return value[:100] or None


def _version(family: str | None, *parts: str | None) -> str | None:
    if not family or family == "Other":
        return None
    numbers = ".".join(p for p in parts if p)
    return f"{family} {numbers}".strip()[:100]


def warm_device_rules() -> None:
    """Have ua-parser load its rules now rather than at the first request's parse."""
    parse("")


def describe_device(user_agent: str | None, headers: Mapping[str, str]) -> Device:
    """Combine the UA string with ``Sec-CH-UA-*`` hints; hints win where both speak."""
    result = parse(user_agent or "")
    ua = result.user_agent
    os_ = result.os
    device = result.device

    browser = _version(ua.family, ua.major) if ua else None
    os_version = _version(os_.family, os_.major, os_.minor) if os_ else None
    model = None
    if device and device.family not in ("Other", "Spider"):
        model = (
            " ".join(p for p in (device.brand, device.model) if p and p != "Generic")[:100] or None
        )

    platform = _hint(headers, "sec-ch-ua-platform")
    if platform:
        os_version = f"{platform} {_hint(headers, 'sec-ch-ua-platform-version') or ''}".strip()
    model = _hint(headers, "sec-ch-ua-model") or model

    mobile_hint = _hint(headers, "sec-ch-ua-mobile")
    text = user_agent or ""
    if any(marker in text for marker in _TABLET_HINTS) or (
        "Android" in text and "Mobile" not in text and mobile_hint != "?1"
    ):
        kind = "tablet"
    elif mobile_hint == "?1" or "Mobi" in text or "iPhone" in text:
        kind = "mobile"
    elif mobile_hint == "?0" or (os_ and os_.family in _DESKTOP_OS) or platform in _DESKTOP_OS:
        kind = "desktop"
    else:
        kind = "unknown"
    return Device(kind, model, os_version, browser)
