"""The page an account notice links to (``sessile.notices``): ``GET`` shows what the link
does and changes nothing (mail scanners open links), and its button ``POST``s the token
back, which ends every session of the account, once.

The token travels in the query once, from the notice to the page, and then in the form's
body; the page loads nothing else and sends no ``Referer``, so it leaks nowhere.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sessile.http.context import context_of
from sessile.notices import END_SESSIONS_PATH

__all__ = ["router"]

router = APIRouter(tags=["account"])

# Referrer-Policy: no-referrer, nosniff and the framing headers come with every answer
# (http/security_headers.py); the page adds a policy of its own, which browsers enforce
# beside the edge's.
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
_USED = "This link has already been used, or has expired. Nothing was changed."


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;"
        "padding:0 1rem}button{font:inherit;padding:.5rem 1rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


@router.get(END_SESSIONS_PATH, response_class=HTMLResponse)
async def confirm(request: Request) -> HTMLResponse:
    """The confirmation page for the link's ``token``; nothing is ended yet."""
    context = context_of(request)
    token = request.query_params.get("token", "")
    if not await context.end_session_links.is_live(token):
        return _page("Link used or expired", f"<p>{_USED}</p>", 400)
    app_name = html.escape(context.settings.app_name)
    form = (
        f"<p>This ends every session of your {app_name} account, on every device: "
        "whoever is logged in, you included, must log in again.</p>"
        f'<form method="post" action="{END_SESSIONS_PATH}">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        "<button type=submit>End every session</button></form>"
    )
    return _page("End every session?", form)


@router.post(END_SESSIONS_PATH, response_class=HTMLResponse)
async def end_sessions(request: Request) -> HTMLResponse:
    """Spend the form's ``token`` and end every session of its account."""
    context = context_of(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0]
    ended = await context.end_session_links.end_sessions(token)
    if ended is None:
        return _page("Link used or expired", f"<p>{_USED}</p>", 400)
    app_name = html.escape(context.settings.app_name)
    done = (
        f"<p>Every session of your {app_name} account has ended. Log in again, then check "
        "your account's addresses, phone numbers and password.</p>"
    )
    return _page("Every session ended", done)
