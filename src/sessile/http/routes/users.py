"""``/v2/session/apps/{app_id}/users``: the management API for users (DESIGN §7).

Each router below declares the API-key scope of its routes once; the key is checked
before anything else is read. Bodies go through ``read_json`` (so an empty body is ``{}``
and problems are ``bad_request``); their schemas reach the OpenAPI document through
``openapi_extra``. A route that answers with one user wraps it as Prelude's
``GET /users/{userID}`` does: ``{"user": …}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.api_scopes import SESSIONS, USERS_READ, USERS_WRITE
from sessile.context import AppContext
from sessile.errors import BadRequest, NotFound
from sessile.http.api_key import api_key
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.openapi import NO_STORE, PAGING, errors, json_body
from sessile.http.paging import paging
from sessile.http.views import (
    CreatedUser,
    Revoked,
    SessionList,
    UserAnswer,
    UserList,
    session_page,
    user_views,
)
from sessile.identifiers import IDENTIFIER_TYPES, parse_identifier
from sessile.store.users import User
from sessile.users import SCOPE, USER_ID

__all__ = ["IdentifierBody", "router", "user_answer", "user_view_of"]

reading = APIRouter(dependencies=[api_key(USERS_READ)])
writing = APIRouter(dependencies=[api_key(USERS_WRITE)])
sessions = APIRouter(dependencies=[api_key(SESSIONS)])


async def user_view_of(context: AppContext, user: User | None) -> dict[str, Any]:
    """One user as the management API shows it, with its provider identities;
    ``not_found`` when a service found no such user (``None``)."""
    if user is None:
        raise NotFound("No such user.")
    [view] = user_views([user], await context.users.identities([user]))
    return view


async def user_answer(
    context: AppContext,
    user: User | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``{"user": …}``, uncached."""
    view = await user_view_of(context, user)
    return JSONResponse({"user": view}, status_code=status, headers={**NO_STORE, **(headers or {})})


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
    id: USER_ID | None = Field(
        default=None,
        description="The user's id, chosen by the caller (e.g. a UUID): letters, digits, "
        "_ and -, at most 40. A taken id is 409 `conflict`. Without it: `usr_…`.",
    )
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


# Routes ------------------------------------------------------------------------------------
@writing.post(
    "/users",
    operation_id="create_user",
    status_code=201,
    response_model=CreatedUser,
    responses=errors(400, 409),
    openapi_extra=json_body(CreateUserBody),
)
async def create_user_route(request: Request, app_id: str) -> JSONResponse:
    """Create a user with identifiers, a profile, optionally a password and an id of the
    caller's choosing; answer its id (Prelude's answer) and the user."""
    context = context_of(request)
    body = await read_json(request, CreateUserBody)
    parsed = [
        (parse_identifier({"type": i.type, "value": i.value}), i.verified) for i in body.identifiers
    ]
    user = await context.users.create(
        [identifier for identifier, _ in parsed],
        profile=body.profile,
        password=body.password,
        proven=[identifier for identifier, verified in parsed if verified],
        external_id=body.external_id,
        scopes=body.scopes,
        user_id=body.id,
    )
    location = f"/v2/session/apps/{app_id}/users/{user.id}"
    return JSONResponse(
        {"id": user.id, "user": await user_view_of(context, user)},
        status_code=201,
        headers={**NO_STORE, "Location": location},
    )


@reading.get(
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
    context = context_of(request)
    limit, offset = paging(request)
    if identifier_type is None and identifier_value is None:
        users, total = await context.users.page(limit=limit, offset=offset)
    elif identifier_type is None or identifier_value is None:
        raise BadRequest("identifier_type and identifier_value go together.")
    else:
        wanted = parse_identifier({"type": identifier_type, "value": identifier_value})
        users, total = await context.users.holding(wanted, offset=offset)
    return JSONResponse(
        {
            "users": user_views(users, await context.users.identities(users)),
            "total": total,
            "limit": limit,
            "offset": offset,
        },
        headers=NO_STORE,
    )


@reading.get(
    "/users/{user_id}",
    operation_id="get_user",
    response_model=UserAnswer,
    responses=errors(404),
)
async def get_user(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """One user."""
    context = context_of(request)
    return await user_answer(context, await context.users.existing(user_id))


@writing.patch(
    "/users/{user_id}",
    operation_id="update_user",
    response_model=UserAnswer,
    responses=errors(400, 404),
    openapi_extra=json_body(UpdateUserBody, required=False),
)
async def update_user_route(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Merge into the profile (RFC 7396), and disable (revoking every session) or enable."""
    context = context_of(request)
    body = await read_json(request, UpdateUserBody)
    user = await context.users.update(user_id, profile_patch=body.profile, disabled=body.disabled)
    return await user_answer(context, user)


@writing.delete(
    "/users/{user_id}",
    operation_id="delete_user",
    status_code=204,
    response_class=Response,
    responses=errors(404),
)
async def delete_user_route(request: Request, app_id: str, user_id: str) -> Response:
    """Delete a user with their identifiers, after revoking every session."""
    if not await context_of(request).users.delete(user_id):
        raise NotFound("No such user.")
    return Response(status_code=204)


@writing.put(
    "/users/{user_id}/password",
    operation_id="set_user_password",
    response_model=UserAnswer,
    responses=errors(400, 404),
    openapi_extra=json_body(PasswordBody),
)
async def set_password_route(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Set (policy enforced) or remove the password; optionally revoke every session.

    A backend has no current session to spare, so the choice is all or none.
    """
    context = context_of(request)
    body = await read_json(request, PasswordBody)
    user = await context.users.set_password(
        user_id, body.password, revoke_sessions=body.revoke_sessions
    )
    return await user_answer(context, user)


@sessions.get(
    "/users/{user_id}/sessions",
    operation_id="list_user_sessions",
    response_model=SessionList,
    responses=errors(400, 404),
    openapi_extra=PAGING,
)
async def list_user_sessions(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """The user's live sessions, newest first: the shape of ``/v1/session/me/list``."""
    context = context_of(request)
    limit, offset = paging(request)
    await context.users.existing(user_id)
    rows, total = await context.sessions.list(user_id, limit=limit, offset=offset)
    page = session_page(rows, total, limit=limit, offset=offset, ends_at=context.sessions.ends_at)
    return JSONResponse(page, headers=NO_STORE)


@sessions.post(
    "/users/{user_id}/sessions/revoke",
    operation_id="revoke_user_sessions",
    response_model=Revoked,
    responses=errors(400, 404),
    openapi_extra=json_body(RevokeSessionsBody, required=False),
)
async def revoke_user_sessions(request: Request, app_id: str, user_id: str) -> JSONResponse:
    """Revoke every live session of the user, or the one ``session_id`` names."""
    context = context_of(request)
    body = await read_json(request, RevokeSessionsBody)
    revoked = await context.users.revoke_session(user_id, body.session_id)
    return JSONResponse({"revoked": revoked})


router = APIRouter(prefix="/v2/session/apps/{app_id}", tags=["management"])
for _part in (writing, reading, sessions):
    router.include_router(_part)
