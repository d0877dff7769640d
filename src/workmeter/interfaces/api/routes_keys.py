"""API key management (admin scope): create, list, revoke. Mirrors ``workmeter keys``."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Path, Request, Security
from pydantic import Field, ValidationError
from starlette.responses import Response

from workmeter.core.errors import InvalidInput
from workmeter.interfaces.api.auth import ADMIN, Principal
from workmeter.interfaces.api.bodies import Body
from workmeter.interfaces.api.body import read_body
from workmeter.interfaces.api.errors import error_responses
from workmeter.interfaces.api.render import JSON, rows_response

router = APIRouter(tags=["keys"])

KEY_SCHEMA: dict[str, Any] = {"type": "object", "required": ["id", "prefix", "scope"], "properties": {
    "id": {"type": "string"}, "prefix": {"type": "string"}, "name": {"type": ["string", "null"]},
    "scope": {"type": "string"}, "customer": {"type": ["string", "null"]},
    "created_at": {"type": "string"}, "revoked_at": {"type": ["string", "null"]},
    "last_used_at": {"type": ["string", "null"]}}}


class KeyCreate(Body):
    scope: Literal["ingest", "read", "admin"]
    customer: str | None = Field(None, min_length=1, max_length=200, pattern=r"\S")
    name: str | None = Field(None, max_length=200)


_NAME = {"type": ["string", "null"], "maxLength": 200}
#: A bound key is ingest or read; an admin key is never bound (it manages every customer).
KEY_CREATE_SCHEMA: dict[str, Any] = {"oneOf": [
    {"type": "object", "required": ["scope"], "properties": {
        "scope": {"type": "string", "enum": ["ingest", "read"]},
        "customer": {"type": ["string", "null"], "minLength": 1, "maxLength": 200, "pattern": r"\S"},
        "name": _NAME}},
    {"type": "object", "required": ["scope"], "properties": {
        "scope": {"type": "string", "enum": ["admin"]}, "customer": {"type": "null"}, "name": _NAME}},
]}


async def _key_create(request: Request) -> KeyCreate:
    try:
        return KeyCreate.model_validate(orjson.loads(await read_body(request, 64 * 1024)))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", where="body") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(first["msg"], where=where) from None


def created(key: Any, secret: str) -> dict[str, Any]:
    """What ``keys create --json`` prints: the id and the key, shown this once."""
    return {"id": key.id, "key": secret}


@router.post("/api/v1/keys", status_code=201, summary="Create an API key (the key is shown once)",
             responses={201: {"content": {"application/json": {"schema": {
                 "type": "object", "required": ["id", "key"],
                 "properties": {"id": {"type": "string"}, "key": {"type": "string"}}}}}},
                 **error_responses(400, 401, 403, 413)},
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": KEY_CREATE_SCHEMA}}}})
async def create_key(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    body = await _key_create(request)
    key, secret = await asyncio.to_thread(request.app.state.wm.keys.create, body.scope,
                                          customer=body.customer, name=body.name)
    return JSON(created(key, secret), status_code=201)


@router.get("/api/v1/keys", summary="List API keys (never their secrets)",
            responses={200: {"content": {"application/json": {"schema": {"type": "array", "items": KEY_SCHEMA}},
                                         "text/csv": {"schema": {"type": "string"}}}},
                       **error_responses(400, 401, 403)})
def list_keys(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    return rows_response(request, [k.as_dict() for k in request.app.state.wm.keys.list()])


@router.delete("/api/v1/keys/{key_id}", summary="Revoke an API key",
               responses={200: {"content": {"application/json": {"schema": KEY_SCHEMA}}},
                          **error_responses(400, 401, 403, 404)})
def revoke_key(request: Request, key_id: str = Path(..., max_length=100),
               principal: Principal = Security(ADMIN)) -> Response:
    return JSON(request.app.state.wm.keys.revoke(key_id).as_dict())
