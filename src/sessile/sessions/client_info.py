"""The client's address and country (DESIGN §5): believe proxies only when they are trusted."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import maxminddb

__all__ = ["ClientLocator"]

log = logging.getLogger("sessile.sessions")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientLocator:
    def __init__(
        self,
        trusted_proxies: Sequence[str],
        country_header: str | None,
        geoip_db: Path | None,
    ) -> None:
        self._trusted: list[Network] = [
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies
        ]
        self._country_header = country_header.lower() if country_header else None
        self._reader: Any = maxminddb.open_database(str(geoip_db)) if geoip_db else None

    def _is_trusted(self, address: str | None) -> bool:
        if address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)

    def client_ip(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The peer, or, behind trusted proxies, the nearest untrusted hop of X-Forwarded-For."""
        if not self._trusted or not self._is_trusted(peer):
            return peer
        hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return peer
        return peer

    def country(
        self, peer: str | None, client_ip: str | None, headers: Mapping[str, str]
    ) -> str | None:
        if self._country_header and self._is_trusted(peer):
            value = headers.get(self._country_header, "").strip().upper()
            if len(value) == 2 and value.isalpha() and value != "XX":
                return value
        if self._reader is not None and client_ip:
            try:
                record = self._reader.get(client_ip)
            except ValueError:
                return None
            if isinstance(record, dict):
                country = record.get("country") or record.get("registered_country") or {}
                code = country.get("iso_code") if isinstance(country, dict) else None
                if isinstance(code, str) and len(code) == 2:
                    return code.upper()
        return None
