from __future__ import annotations

from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from sessile.sessions.client_info import ClientLocator


@pytest.fixture
def geoip(tmp_path: Path) -> Path:
    """A tiny GeoIP2-style country database, built here."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-Country")
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"country": {"iso_code": "FR"}})
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"registered_country": {"iso_code": "jp"}})
    path = tmp_path / "countries.mmdb"
    writer.to_db_file(str(path))
    return path


def test_country_from_mmdb(geoip: Path) -> None:
    locator = ClientLocator([], None, geoip)
    assert locator.country("203.0.113.7", "203.0.113.7", {}) == "FR"
    assert locator.country("198.51.100.1", "198.51.100.1", {}) == "JP"
    assert locator.country("192.0.2.1", "192.0.2.1", {}) is None


def test_proxy_header_only_from_trusted_proxies(geoip: Path) -> None:
    locator = ClientLocator(["10.0.0.0/8"], "CF-IPCountry", geoip)
    headers = {"cf-ipcountry": "de", "x-forwarded-for": "203.0.113.9, 10.1.1.1"}
    # Through the trusted proxy: its header, and the client address from X-Forwarded-For.
    assert locator.country("10.0.0.2", "203.0.113.9", headers) == "DE"
    assert locator.client_ip("10.0.0.2", headers) == "203.0.113.9"
    # Straight from the internet: the same headers are ignored.
    assert locator.client_ip("198.51.100.5", headers) == "198.51.100.5"
    assert locator.country("198.51.100.5", "198.51.100.5", headers) == "JP"


def test_forwarded_chain_skips_trusted_hops() -> None:
    locator = ClientLocator(["10.0.0.0/8", "127.0.0.1"], None, None)
    headers = {"x-forwarded-for": "1.2.3.4, 5.6.7.8, 10.9.9.9"}
    assert locator.client_ip("127.0.0.1", headers) == "5.6.7.8"
    assert locator.client_ip("127.0.0.1", {"x-forwarded-for": "garbage"}) == "127.0.0.1"
    assert locator.country("127.0.0.1", "5.6.7.8", headers) is None
