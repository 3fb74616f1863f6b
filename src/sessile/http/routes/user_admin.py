"""The management API under Prelude's names (``/v2/session/apps/{app_id}/users/…``): the
sessions of a user, the profile, the status, the external id, the identifiers, and a batch
lookup; plus the scopes, sessile's own. The routes of ``users.py`` keep working beside
them; as there, each router declares its API-key scope once.

Where Prelude documents no body (PATCH profile, PUT external_id, DELETE session) the
answer is 204, as its newer docs say; where it documents only the status (PUT status,
POST sessions/invalidate) the body is sessile's.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, RootModel

from sessile.api_scopes import SESSIONS, USERS_READ, USERS_WRITE
from sessile.errors import BadRequest, NotFound
from sessile.http.api_key import api_key
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.openapi import NO_STORE, errors, json_body
from sessile.http.routes.users import IdentifierBody, user_answer
from sessile.http.views import Revoked, UserAnswer, UserView, user_views
from sessile.identifiers import parse_identifier
from sessile.store.user_identifiers import Identifier
from sessile.users import SCOPE

__all__ = ["router"]

reading = APIRouter(dependencies=[api_key(USERS_READ)])
writing = APIRouter(dependencies=[api_key(USERS_WRITE)])
sessions = APIRouter(dependencies=[api_key(SESSIONS)])

_LOOKUP_MAX = 100


class ProfilePatch(RootModel[dict[str, Any]]):
    """The profile members to change, sent as the body itself (Prelude's shape): an RFC
    7396 merge patch, so a member set to null is removed, objects merge, anything else
    replaces. There is no ``{"profile": …}`` wrapper: a profile may have a member of
    that name, so the wrapper could not be told from it."""


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    status: Literal["active", "inactive"] = Field(
        description="`inactive` disables the user and revokes every session; `active` enables."
    )


class ExternalIdBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    external_id: str | None = Field(
        min_length=1, max_length=128, description="The user's id in your system; null clears it."
    )


class ScopesBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scopes: list[SCOPE] = Field(max_length=50, description="Replaces the user's scopes.")


class WrappedIdentifier(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    identifier: IdentifierBody


class IdentifierInBody(RootModel[WrappedIdentifier | IdentifierBody]):
    """``{"identifier": {type, value}}`` or the bare ``{type, value}``: Prelude's docs do
    not show which, and the two can't be mistaken for each other."""

    def identifier(self) -> IdentifierBody:
        given = self.root
        return given.identifier if isinstance(given, WrappedIdentifier) else given


class BatchLookupBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    external_ids: list[str] = Field(default_factory=list, max_length=_LOOKUP_MAX)
    emails: list[str] = Field(default_factory=list, max_length=_LOOKUP_MAX)


class UserMatches(BaseModel):
    users: list[UserView]


def _parsed(body: IdentifierBody) -> Identifier:
    return parse_identifier({"type": body.type, "value": body.value})


@reading.post(
    "/users/batch_lookup",
    operation_id="batch_lookup_users",
    response_model=UserMatches,
    responses=errors(400),
    openapi_extra=json_body(BatchLookupBody),
)
async def batch_lookup(request: Request, app_id: str) -> JSONResponse:
    """The users holding any of these external ids or e-mail addresses (each list at most
    100), oldest first; at least one list must be given."""
    body = await read_json(request, BatchLookupBody)
    if not body.external_ids and not body.emails:
        raise BadRequest("Give external_ids, emails, or both.")
    emails = [parse_identifier({"type": "email_address", "value": email}) for email in body.emails]
    context = context_of(request)
    users = await context.users.lookup(external_ids=body.external_ids, identifiers_=emails)
    views = user_views(users, await context.users.identities(users))
    return JSONResponse({"users": views}, headers=NO_STORE)


@sessions.delete(
    "/users/{user_id}/sessions/{session_id}",
    operation_id="revoke_user_session",
    status_code=204,
    response_class=Response,
    responses=errors(404),
)
async def revoke_user_session(
    request: Request, app_id: str, user_id: str, session_id: str
) -> Response:
    """Revoke one live session of the user (reason ``admin``)."""
    await context_of(request).users.revoke_session(user_id, session_id)
    return Response(status_code=204)


@sessions.post(
    "/users/{user_id}/sessions/invalidate",
    operation_id="invalidate_user_sessions",
    response_model=Revoked,
    responses=errors(404),
)
async def invalidate_user_sessions(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Revoke every live session of the user (reason ``admin``); answer how many."""
    revoked = await context_of(request).users.revoke_session(user_id, None)
    return JSONResponse({"revoked": revoked})


@writing.patch(
    "/users/{user_id}/profile",
    operation_id="update_user_profile",
    status_code=204,
    response_class=Response,
    responses=errors(400, 404),
    # An empty body is an empty patch: nothing changes.
    openapi_extra=json_body(ProfilePatch, required=False),
)
async def update_profile(request: Request, app_id: str, user_id: str) -> Response:
    """Merge the body into the profile (RFC 7396)."""
    body = await read_json(request, ProfilePatch)
    if await context_of(request).users.update(user_id, profile_patch=body.root) is None:
        raise NotFound("No such user.")
    return Response(status_code=204)


@writing.put(
    "/users/{user_id}/status",
    operation_id="set_user_status",
    response_model=UserAnswer,
    responses=errors(400, 404),
    openapi_extra=json_body(StatusBody),
)
async def set_status(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Make the user ``active`` or ``inactive`` (no login; every session revoked)."""
    body = await read_json(request, StatusBody)
    context = context_of(request)
    user = await context.users.update(user_id, disabled=body.status == "inactive")
    return await user_answer(context, user)


@writing.put(
    "/users/{user_id}/external_id",
    operation_id="set_user_external_id",
    status_code=204,
    response_class=Response,
    responses=errors(400, 404, 409),
    openapi_extra=json_body(ExternalIdBody),
)
async def set_external_id(request: Request, app_id: str, user_id: str) -> Response:
    """Set (unique across users) or clear the user's id in your system."""
    body = await read_json(request, ExternalIdBody)
    if await context_of(request).users.set_fields(user_id, external_id=body.external_id) is None:
        raise NotFound("No such user.")
    return Response(status_code=204)


@writing.put(
    "/users/{user_id}/scopes",
    operation_id="set_user_scopes",
    response_model=UserAnswer,
    responses=errors(400, 404),
    openapi_extra=json_body(ScopesBody),
)
async def set_scopes(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Replace the scopes granted to the user."""
    body = await read_json(request, ScopesBody)
    context = context_of(request)
    user = await context.users.set_fields(user_id, scopes=body.scopes)
    return await user_answer(context, user)


@writing.post(
    "/users/{user_id}/identifiers",
    operation_id="add_user_identifier",
    status_code=201,
    response_model=UserAnswer,
    responses=errors(400, 404, 409),
    openapi_extra=json_body(IdentifierInBody),
)
async def add_identifier_route(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Give the user another identifier; ``verified`` when you already proved it."""
    given = (await read_json(request, IdentifierInBody)).identifier()
    context = context_of(request)
    user = await context.users.add_identifier(user_id, _parsed(given), proven=given.verified)
    return await user_answer(context, user, 201)


@writing.delete(
    "/users/{user_id}/identifiers/{identifier_type}/{identifier_value}",
    operation_id="remove_user_identifier",
    status_code=204,
    response_class=Response,
    responses=errors(400, 404),
)
async def remove_identifier_route(
    request: Request, app_id: str, user_id: str, identifier_type: str, identifier_value: str
) -> Response:
    """Take an identifier from the user (any spelling of it, URL-encoded)."""
    identifier = parse_identifier({"type": identifier_type, "value": identifier_value})
    await context_of(request).users.remove_identifier(user_id, identifier)
    return Response(status_code=204)


@writing.delete(
    "/users/{user_id}/identifiers",
    operation_id="remove_user_identifier_in_body",
    status_code=204,
    response_class=Response,
    responses=errors(400, 404),
    openapi_extra=json_body(IdentifierInBody),
)
async def remove_identifier_in_body(request: Request, app_id: str, user_id: str) -> Response:
    """The same, with the identifier in the body, as ``POST …/identifiers`` takes it."""
    given = (await read_json(request, IdentifierInBody)).identifier()
    await context_of(request).users.remove_identifier(user_id, _parsed(given))
    return Response(status_code=204)


router = APIRouter(prefix="/v2/session/apps/{app_id}", tags=["management"])
for _part in (reading, sessions, writing):
    router.include_router(_part)
