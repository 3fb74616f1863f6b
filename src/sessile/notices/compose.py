"""The message of a notice, from the configured templates (no I/O)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from sessile.delivery import Message
from sessile.notices.changes import AccountChange
from sessile.store.user_identifiers import Identifier

__all__ = ["NoticeTexts", "compose_notice"]


@dataclass(frozen=True)
class NoticeTexts:
    """The templates of the settings of the same names."""

    app_name: str
    account_changed_subject: str
    identifier_added_text: str
    identifier_removed_text: str
    provider_linked_text: str
    password_changed_subject: str
    password_changed_text: str
    end_sessions_text: str
    notice_link_ttl: int


def compose_notice(texts: NoticeTexts, change: AccountChange, to: Identifier, link: str) -> Message:
    """The notice of ``change`` to ``to`` (an e-mail, else an SMS), with its link."""
    values = {
        "app_name": texts.app_name,
        "identifier": change.subject,
        "provider": change.subject,
        "link": link,
        "hours": max(1, texts.notice_link_ttl // 3600),
    }
    said = {
        "identifier_added": texts.identifier_added_text,
        "identifier_removed": texts.identifier_removed_text,
        "provider_linked": texts.provider_linked_text,
        "password_changed": texts.password_changed_text,
    }[change.kind].format(**values)
    ending = texts.end_sessions_text.format(**values)
    text = f"{said} {ending}"
    if to.type != "email_address":
        return Message("sms", to.value, "", text)
    subject = (
        texts.password_changed_subject
        if change.kind == "password_changed"
        else texts.account_changed_subject
    ).format(**values)
    page = (
        "<!doctype html><html><body>"
        f"<p>{html.escape(said)}</p>"
        f"<p>{html.escape(ending)}</p>"
        f'<p><a href="{html.escape(link)}">End every session</a></p>'
        "</body></html>"
    )
    return Message("email", to.value, "", text, subject, page)
