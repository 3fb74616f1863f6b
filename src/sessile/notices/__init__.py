"""Notices of account changes: every proven address of an account is told when an
identifier is added or removed, a provider is linked, or the password changes. Each notice
carries a link of its own that ends every session of the account, once, within
``SESSILE_NOTICE_LINK_TTL`` (``links.py``; the page is ``http/routes/end_sessions.py``)."""

from sessile.notices.changes import AccountChange
from sessile.notices.compose import NoticeTexts
from sessile.notices.links import END_SESSIONS_PATH, ENDED_FROM_NOTICE, EndSessionLinks
from sessile.notices.service import AccountNotices

__all__ = [
    "ENDED_FROM_NOTICE",
    "END_SESSIONS_PATH",
    "AccountChange",
    "AccountNotices",
    "EndSessionLinks",
    "NoticeTexts",
]
