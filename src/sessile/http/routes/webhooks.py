"""``/v2/session/apps/{app_id}/webhooks``: endpoints for lifecycle events in Prelude's shapes
(PRELUDE-API §4.5): create, add an event, activate (POST, or GET as one of Prelude's pages
has it); and sessile's own list, get, change, delete and dead letters beside them."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sessile.api_scopes import WEBHOOKS
from sessile.errors import NotFound
from sessile.http.api_key import api_key
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.openapi import NO_STORE, errors, json_body
from sessile.http.views import rfc3339
from sessile.store.events import QueuedEvent
from sessile.store.webhooks import Webhook

__all__ = ["router"]

router = APIRouter(
    prefix="/v2/session/apps/{app_id}", tags=["webhooks"], dependencies=[api_key(WEBHOOKS)]
)

#: ``sessile.event_types.EVENT_TYPES``: Prelude's seven ``user.*`` events and its newer ones.
EventType = Literal[
    "user.created",
    "user.deleted",
    "user.profile.updated",
    "user.identifier.created",
    "user.identifier.deleted",
    "user.session.created",
    "user.session.revoked",
    "user.passkey.registered",
    "user.passkey.deleted",
    "step_up.hook_failed",
    "migration.hook_failed",
]
SignatureScheme = Literal["rsassa-pss-sha256", "hmac-sha256"]


def _web_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("url must be an absolute http or https URL")
    return url


WebUrl = Annotated[str, Field(max_length=2048), AfterValidator(_web_url)]


class CreateWebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: WebUrl = Field(description="Where events are POSTed (and the activation GET goes).")
    verification_token: str = Field(
        min_length=1,
        max_length=100,
        description="Sent back to the endpoint in the activation challenge.",
    )
    events: list[EventType] = Field(min_length=1, max_length=50)
    signature: SignatureScheme = Field(
        default="rsassa-pss-sha256",
        description=(
            "How deliveries are signed: rsassa-pss-sha256 (X-Webhook-Signature: "
            "rsassa-pss-sha256=…, by a key of the JWKS named in X-Webhook-Signature-Key-Id) "
            "or hmac-sha256 (X-Webhook-Signature: sha256=…, keyed by the secret returned "
            "once, now)."
        ),
    )


class AddEventBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    event: EventType


class UpdateWebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: WebUrl | None = Field(
        default=None, description="A new URL; the endpoint must be activated again."
    )
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=50)


class RedeliverBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    event_ids: list[str] | None = Field(
        default=None, max_length=1000, description="Only these; without them, every one."
    )


class WebhookView(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    last_http_code: int | None
    last_http_code_date: str | None
    created_at: str
    updated_at: str
    signature: SignatureScheme


class WebhookAnswer(BaseModel):
    webhook: WebhookView


class CreatedWebhook(BaseModel):
    webhook: WebhookView
    secret: str | None = Field(
        default=None,
        description="The HMAC key of an hmac-sha256 endpoint (absent otherwise). Shown once.",
    )


class WebhookList(BaseModel):
    webhooks: list[WebhookView]


class DeadLetter(BaseModel):
    id: str
    type: str
    user_id: str
    created_at: str
    payload: dict[str, Any]
    attempts: int
    last_error: str | None
    dead_at: str


class DeadLetters(BaseModel):
    events: list[DeadLetter]


class Redelivered(BaseModel):
    redelivered: int


def _view(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "active": webhook.active,
        "last_http_code": webhook.last_http_code,
        "last_http_code_date": (
            rfc3339(webhook.last_http_code_at) if webhook.last_http_code_at else None
        ),
        "created_at": rfc3339(webhook.created_at),
        "updated_at": rfc3339(webhook.updated_at),
        "signature": webhook.signature,
    }


def _dead_letter(row: QueuedEvent) -> dict[str, Any]:
    return {
        **dict(row.payload),
        "attempts": row.attempts,
        "last_error": row.last_error,
        "dead_at": rfc3339(row.dead_at or 0.0),
    }


def _answer(webhook: Webhook, status: int = 200) -> JSONResponse:
    return JSONResponse({"webhook": _view(webhook)}, status_code=status, headers=NO_STORE)


@router.post(
    "/webhooks",
    operation_id="create_webhook",
    status_code=201,
    response_model=CreatedWebhook,
    responses=errors(400),
    openapi_extra=json_body(CreateWebhookBody),
)
async def create(request: Request, app_id: str) -> JSONResponse:
    """Register an endpoint; it receives events once activated."""
    body = await read_json(request, CreateWebhookBody)
    webhook, secret = await context_of(request).endpoints.create(
        url=body.url,
        events=body.events,
        verification_token=body.verification_token,
        signature=body.signature,
    )
    created: dict[str, Any] = {"webhook": _view(webhook)}
    if secret is not None:
        created["secret"] = secret
    return JSONResponse(created, status_code=201, headers=NO_STORE)


@router.post(
    "/webhooks/{webhook_id}/events",
    operation_id="add_webhook_event",
    status_code=201,
    response_model=WebhookAnswer,
    responses=errors(400, 404),
    openapi_extra=json_body(AddEventBody),
)
async def add_event(request: Request, app_id: str, webhook_id: str) -> JSONResponse:
    """Subscribe the endpoint to one more event."""
    body = await read_json(request, AddEventBody)
    webhook = await context_of(request).endpoints.add_event(webhook_id, body.event)
    return _answer(webhook, 201)


@router.get("/webhooks", operation_id="list_webhooks", response_model=WebhookList)
async def list_all(request: Request, app_id: str) -> JSONResponse:
    """Every endpoint, oldest first."""
    webhooks = await context_of(request).endpoints.all()
    return JSONResponse({"webhooks": [_view(w) for w in webhooks]}, headers=NO_STORE)


@router.get(
    "/webhooks/{webhook_id}",
    operation_id="get_webhook",
    response_model=WebhookAnswer,
    responses=errors(404),
)
async def get(request: Request, app_id: str, webhook_id: str) -> JSONResponse:
    return _answer(await context_of(request).endpoints.existing(webhook_id))


@router.patch(
    "/webhooks/{webhook_id}",
    operation_id="update_webhook",
    response_model=WebhookAnswer,
    responses=errors(400, 404),
    openapi_extra=json_body(UpdateWebhookBody, required=False),
)
async def update(request: Request, app_id: str, webhook_id: str) -> JSONResponse:
    """Change the event filter, or the URL (which needs a new activation)."""
    body = await read_json(request, UpdateWebhookBody)
    updated = await context_of(request).endpoints.update(
        webhook_id, url=body.url, events=body.events
    )
    return _answer(updated)


@router.delete(
    "/webhooks/{webhook_id}",
    operation_id="delete_webhook",
    status_code=204,
    response_class=Response,
    responses=errors(404),
)
async def delete(request: Request, app_id: str, webhook_id: str) -> Response:
    """Remove an endpoint with its queued events and dead letters."""
    if not await context_of(request).endpoints.delete(webhook_id):
        raise NotFound("No such webhook.")
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/activate",
    operation_id="activate_webhook_by_get",
    response_model=WebhookAnswer,
    responses=errors(400, 404),
)
@router.post(
    "/webhooks/{webhook_id}/activate",
    operation_id="activate_webhook",
    response_model=WebhookAnswer,
    responses=errors(400, 404),
)
async def activate(request: Request, app_id: str, webhook_id: str) -> JSONResponse:
    """Send the activation challenge (a GET with ``event=activate``, ``verification_token``,
    ``challenge`` and ``app_id``); the endpoint is active once it answers
    ``{"challenge": <the integer>}`` or ``{"verification_token": "<the token>"}``.
    Prelude's pages name both POST and GET for this route: both are served."""
    return _answer(await context_of(request).endpoints.activate(webhook_id))


@router.get(
    "/webhooks/{webhook_id}/dead_letters",
    operation_id="list_webhook_dead_letters",
    response_model=DeadLetters,
    responses=errors(404),
)
async def dead_letters(request: Request, app_id: str, webhook_id: str) -> JSONResponse:
    """Events that were given up on after the retry horizon, oldest first (at most 100)."""
    rows = await context_of(request).endpoints.dead_letters(webhook_id)
    return JSONResponse({"events": [_dead_letter(r) for r in rows]}, headers=NO_STORE)


@router.post(
    "/webhooks/{webhook_id}/dead_letters/redeliver",
    operation_id="redeliver_webhook_dead_letters",
    response_model=Redelivered,
    responses=errors(400, 404),
    openapi_extra=json_body(RedeliverBody, required=False),
)
async def redeliver(request: Request, app_id: str, webhook_id: str) -> JSONResponse:
    """Queue dead letters again, with a fresh retry horizon."""
    body = await read_json(request, RedeliverBody)
    count = await context_of(request).endpoints.redeliver(webhook_id, body.event_ids)
    return JSONResponse({"redelivered": count})
