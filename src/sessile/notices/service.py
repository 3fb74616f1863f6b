"""Telling an account's proven addresses that it changed."""

from __future__ import annotations

import logging
from typing import Protocol

from sessile.delivery import Sender
from sessile.errors import DeliveryFailed
from sessile.notices.changes import AccountChange
from sessile.notices.compose import NoticeTexts, compose_notice
from sessile.notices.links import EndSessionLinks
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

__all__ = ["AccountNotices"]

log = logging.getLogger("sessile.notices")


class UserReader(Protocol):
    async def get(self, user_id: str) -> User | None: ...


class AccountNotices:
    def __init__(
        self, users: UserReader, links: EndSessionLinks, sender: Sender, texts: NoticeTexts
    ) -> None:
        self._users = users
        self._links = links
        self._sender = sender
        self._texts = texts

    async def tell(self, user_id: str, change: AccountChange) -> None:
        """Queue a notice of ``change`` to every proven identifier of the account (and to
        ``change.also``), each with a link of its own. A notice that can't be queued is
        logged; the change stands."""
        user = await self._users.get(user_id)
        if user is None:
            return
        recipients = sorted(
            set(user.proven) | set(change.also),
            key=lambda i: (i.type != "email_address", i.value),
        )
        for to in recipients:
            await self._tell_one(user_id, change, to)

    async def _tell_one(self, user_id: str, change: AccountChange, to: Identifier) -> None:
        link = await self._links.issue(user_id)
        try:
            await self._sender.send(compose_notice(self._texts, change, to, link))
        except DeliveryFailed:
            log.warning(
                "account notice not queued",
                extra={"user_id": user_id, "change": change.kind, "channel": to.type},
            )
