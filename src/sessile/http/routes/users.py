"""``/v2/session/apps/{app_id}/users``: the management API for users (DESIGN §7).

Every route authenticates the API key before it reads anything else. Bodies go through
``read_json`` (so an empty body is ``{}`` and problems are ``bad_request``); their schemas
reach the OpenAPI document through ``openapi_extra``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.api_scopes import SESSIONS, USERS_READ, USERS_WRITE
from sessile.errors import (
    BadRequest,
    NotFound,
)
from sessile.http.api_docs import NO_STORE, PAGING, errors, json_body
from sessile.http.api_key import api_key_caller
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.paging import paging
from sessile.http.views import session_view, user_views
from sessile.identifiers import IDENTIFIER_TYPES, parse_identifier
from sessile.users import SCOPE, create_user, delete_user, existing_user, set_password, update_user

__all__ = ["router"]

router = APIRouter(prefix="/v2/session/apps/{app_id}", tags=["management"])


# Bodies ------------------------------------------------------------------------------------
class IdentifierBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    # A plain string here, so that an unknown type is ``invalid_identifier``, not
    # ``bad_request``; the enum is for the reader of the OpenAPI document.
    type: str = Field(json_schema_extra={"enum": list(IDENTIFIER_TYPES)})
    value: str = Field(description="An e-mail address, or a phone number in E.164 form.")
    verified: bool = Field(
        default=False,
        description="The backend already proved that the user owns it. Otherwise the "
        "first code login proves it.",
    )


class CreateUserBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    identifiers: list[IdentifierBody] = Field(min_length=1, max_length=10)
    profile: dict[str, Any] = Field(default_factory=dict, description="Any JSON object.")
    password: str | None = Field(
        default=None, description="Checked against the password policy, stored as argon2id."
    )
    external_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="The user's id in your system."
    )
    scopes: list[SCOPE] = Field(default_factory=list, max_length=50)


class UpdateUserBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    profile: dict[str, Any] | None = Field(
        default=None,
        description="An RFC 7396 merge patch of the profile: members set to null are "
        "removed, objects merge, anything else replaces. Absent: unchanged.",
    )
    disabled: bool | None = Field(
        default=None,
        description="true disables the user and revokes all of their sessions; false enables.",
    )


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    password: str | None = Field(description="The new password, or null to remove it.")
    revoke_sessions: bool = Field(
        default=False, description="Also revoke every session of the user."
    )


class RevokeSessionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    session_id: str | None = Field(
        default=None, description="Revoke only this session; without it, all of them."
    )


# Answers (for the OpenAPI document; the routes build the JSON themselves) ------------------
class IdentifierView(BaseModel):
    type: str
    value: str
    verified: bool = Field(description="Whether a code, or the backend, proved it.")


class IdentityView(BaseModel):
    provider: str = Field(description="The social-login provider's name, e.g. google.")
    subject: str = Field(description="The provider's id for the person.")
    email: str | None
    email_verified: bool = Field(description="Whether the provider vouched for the address.")
    created_at: str = Field(description="RFC 3339, UTC.")
    last_login_at: str = Field(description="RFC 3339, UTC.")


class UserView(BaseModel):
    id: str
    identifiers: list[IdentifierView]
    email_verified: bool = Field(description="Some e-mail address of the user is proven.")
    phone_verified: bool = Field(description="Some phone number of the user is proven.")
    profile: dict[str, Any]
    has_password: bool
    created_at: str = Field(description="RFC 3339, UTC.")
    updated_at: str = Field(description="RFC 3339, UTC.")
    disabled: bool
    identities: list[IdentityView] = Field(description="Social-login accounts linked to it.")
    status: str = Field(description="`active`, or `inactive` (disabled).")
    scopes: list[str]
    external_id: str | None


class UserList(BaseModel):
    users: list[UserView]
    total: int
    limit: int
    offset: int


class SessionView(BaseModel):
    id: str
    device_type: str
    device_model: str
    os_version: str
    country_code: str
    created_at: str
    last_seen_at: str
    expires_at: str


class SessionList(BaseModel):
    sessions: list[SessionView]
    total: int
    limit: int
    offset: int


class Revoked(BaseModel):
    revoked: int


# Routes ------------------------------------------------------------------------------------
@router.post(
    "/users",
    operation_id="create_user",
    status_code=201,
    response_model=UserView,
    responses=errors(400, 409),
    openapi_extra=json_body(CreateUserBody),
)
async def create_user_route(request: Request, app_id: str) -> JSONResponse:
    """Create a user with identifiers, a profile and optionally a password."""
    await api_key_caller(request, app_id, USERS_WRITE)
    context = context_of(request)
    body = await read_json(request, CreateUserBody)
    parsed = [
        (parse_identifier({"type": i.type, "value": i.value}), i.verified) for i in body.identifiers
    ]
    user = await create_user(
        context,
        [identifier for identifier, _ in parsed],
        profile=body.profile,
        password=body.password,
        proven=[identifier for identifier, verified in parsed if verified],
        external_id=body.external_id,
        scopes=body.scopes,
    )
    return JSONResponse(
        (await user_views(context.db, [user]))[0],
        status_code=201,
        headers={**NO_STORE, "Location": f"/v2/session/apps/{app_id}/users/{user.id}"},
    )


@router.get(
    "/users",
    operation_id="list_users",
    response_model=UserList,
    responses=errors(400),
    openapi_extra=PAGING,
)
async def list_users(
    request: Request,
    app_id: str,
    identifier_type: str | None = Query(
        default=None, description="With identifier_value: find the user holding it."
    ),
    identifier_value: str | None = Query(
        default=None, description="Normalised as at login, so any spelling finds the user."
    ),
) -> JSONResponse:
    """Users, oldest first; or the one user holding an identifier."""
    await api_key_caller(request, app_id, USERS_READ)
    context = context_of(request)
    limit, offset = paging(request)
    if identifier_type is None and identifier_value is None:
        users, total = await context.db.users.list(limit=limit, offset=offset)
    elif identifier_type is None or identifier_value is None:
        raise BadRequest("identifier_type and identifier_value go together.")
    else:
        wanted = parse_identifier({"type": identifier_type, "value": identifier_value})
        found = await context.db.users.find_by_identifier(wanted)
        total = 0 if found is None else 1
        users = [found] if found is not None and offset == 0 else []
    return JSONResponse(
        {
            "users": await user_views(context.db, users),
            "total": total,
            "limit": limit,
            "offset": offset,
        },
        headers=NO_STORE,
    )


@router.get(
    "/users/{user_id}",
    operation_id="get_user",
    response_model=UserView,
    responses=errors(404),
)
async def get_user(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """One user."""
    await api_key_caller(request, app_id, USERS_READ)
    context = context_of(request)
    user = await existing_user(context, user_id)
    return JSONResponse((await user_views(context.db, [user]))[0], headers=NO_STORE)


@router.patch(
    "/users/{user_id}",
    operation_id="update_user",
    response_model=UserView,
    responses=errors(400, 404),
    openapi_extra=json_body(UpdateUserBody, required=False),
)
async def update_user_route(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Merge into the profile (RFC 7396), and disable (revoking every session) or enable."""
    await api_key_caller(request, app_id, USERS_WRITE)
    context = context_of(request)
    body = await read_json(request, UpdateUserBody)
    user = await update_user(context, user_id, profile_patch=body.profile, disabled=body.disabled)
    if user is None:
        raise NotFound("No such user.")
    return JSONResponse((await user_views(context.db, [user]))[0], headers=NO_STORE)


@router.delete(
    "/users/{user_id}",
    operation_id="delete_user",
    status_code=204,
    response_class=Response,
    responses=errors(404),
)
async def delete_user_route(request: Request, app_id: str, user_id: str) -> Response:
    """Delete a user with their identifiers, after revoking every session."""
    await api_key_caller(request, app_id, USERS_WRITE)
    if not await delete_user(context_of(request), user_id):
        raise NotFound("No such user.")
    return Response(status_code=204)


@router.put(
    "/users/{user_id}/password",
    operation_id="set_user_password",
    response_model=UserView,
    responses=errors(400, 404),
    openapi_extra=json_body(PasswordBody),
)
async def set_password_route(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Set (policy enforced) or remove the password; optionally revoke every session.

    A backend has no current session to spare, so the choice is all or none.
    """
    await api_key_caller(request, app_id, USERS_WRITE)
    context = context_of(request)
    body = await read_json(request, PasswordBody)
    user = await set_password(context, user_id, body.password, revoke_sessions=body.revoke_sessions)
    if user is None:
        raise NotFound("No such user.")
    return JSONResponse((await user_views(context.db, [user]))[0], headers=NO_STORE)


@router.get(
    "/users/{user_id}/sessions",
    operation_id="list_user_sessions",
    response_model=SessionList,
    responses=errors(400, 404),
    openapi_extra=PAGING,
)
async def list_user_sessions(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """The user's live sessions, newest first: the shape of ``/v1/session/me/list``."""
    await api_key_caller(request, app_id, SESSIONS)
    context = context_of(request)
    limit, offset = paging(request)
    await existing_user(context, user_id)
    rows, total = await context.sessions.list(user_id, limit=limit, offset=offset)
    idle = context.settings.session_idle_timeout
    return JSONResponse(
        {
            "sessions": [session_view(r, idle) for r in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        },
        headers=NO_STORE,
    )


@router.post(
    "/users/{user_id}/sessions/revoke",
    operation_id="revoke_user_sessions",
    response_model=Revoked,
    responses=errors(400, 404),
    openapi_extra=json_body(RevokeSessionsBody, required=False),
)
async def revoke_user_sessions(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Revoke every live session of the user, or the one ``session_id`` names."""
    await api_key_caller(request, app_id, SESSIONS)
    context = context_of(request)
    body = await read_json(request, RevokeSessionsBody)
    await existing_user(context, user_id)
    if body.session_id is None:
        revoked = await context.sessions.revoke_user(user_id, reason="admin")
    elif await context.db.sessions.revoke(
        body.session_id, reason="admin", now=context.clock.now(), user_id=user_id
    ):
        revoked = 1
    else:
        raise NotFound("The user has no live session with this id.")
    return JSONResponse({"revoked": revoked})
