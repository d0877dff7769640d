"""The one place where failures become HTTP responses.

Every error body has one shape::

    {"error": {"code": "not_found", "message": "no customer 'c9'", "where": "customer"}}

``code`` is the stable code of the :mod:`workmeter.core.errors` tree (plus the
few transport codes below); ``where`` is present when the error points at a
field or parameter. Statuses:

=====================  ======  =============================================
code                   status  when
=====================  ======  =============================================
invalid_input (+subs)  400     bad parameters, bad body, bad plan, …
invalid_event          400     the one event posted was rejected (reason)
unauthorized           401     missing or invalid API key
forbidden              403     wrong scope, or another customer's data
not_found              404     unknown customer, invoice, key, route
conflict               409     the state forbids it (finalized invoice, …)
too_large              413     body above the configured maximum
unsupported_media      415     a content type the endpoint does not take
overloaded             429     the write queue is full (``Retry-After`` set)
storage_error          503     the database failed
internal_error         500     a bug (logged with a traceback, never leaked)
=====================  ======  =============================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match

from workmeter.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Overloaded,
    StorageError,
    Unauthorized,
    WorkmeterError,
)

log = logging.getLogger("workmeter.api")

#: Seconds a client is told to wait after a 429.
RETRY_AFTER_SECONDS = 1


class TooLarge(InvalidInput):
    """The request body is above the configured maximum."""

    code = "too_large"


class InvalidEvent(InvalidInput):
    """A single posted event was refused by the ledger (it is kept in ``rejects``)."""

    code = "invalid_event"


class UnsupportedMedia(InvalidInput):
    """The endpoint does not take this content type."""

    code = "unsupported_media"


STATUS: tuple[tuple[type[WorkmeterError], int], ...] = (
    (TooLarge, 413),
    (UnsupportedMedia, 415),
    (InvalidInput, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Overloaded, 429),
    (StorageError, 503),
)

_HTTP_CODES = {400: "invalid_input", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "too_large", 415: "unsupported_media"}


def status_for(exc: WorkmeterError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(code: str, message: str, where: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if where:
        err["where"] = where
    return {"error": err}


def error_response(exc: WorkmeterError) -> JSONResponse:
    status = status_for(exc)
    headers: dict[str, str] = {}
    if status == 429:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="workmeter"'
    return JSONResponse(error_body(exc.code, exc.message, exc.where), status_code=status, headers=headers)


async def _workmeter_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WorkmeterError)
    if isinstance(exc, StorageError):
        log.error("storage error", extra={"path": request.url.path, "code": exc.code})
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path", "header"))
    message = str(first.get("msg", "invalid request"))
    return JSONResponse(error_body("invalid_input", message, where or None), status_code=400)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes that serve requests: included routers (FastAPI wraps them) are opened up."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            yield from contexts()
        elif hasattr(route, "original_router"):
            yield from _leaf_routes(route.original_router.routes)
        else:
            yield route


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (Starlette lists only the first route's).

    A path spelled out by a route (``/api/v1/invoices/run``) answers with that
    route's methods only, not those of a template it also fits
    (``/api/v1/invoices/{number}``): the methods the document lists for it.
    """
    literal: set[str] = set()
    templated: set[str] = set()
    for route in _leaf_routes(request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "\x00"})
        if match != Match.NONE:
            methods = set(getattr(route, "methods", None) or ())
            (templated if getattr(route, "param_convertors", None) else literal).update(methods)
    return sorted(literal or templated)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error", extra={"path": request.url.path})
    return JSONResponse(error_body("internal_error", "internal server error"), status_code=500)


def install(app: FastAPI) -> None:
    """Register the handlers: the only place exceptions turn into responses."""
    app.add_exception_handler(WorkmeterError, _workmeter_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


#: OpenAPI ``responses`` entries for the error statuses a route can return.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "where": {"type": "string"},
            },
        }
    },
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of error statuses (all share :data:`ERROR_SCHEMA`)."""
    return {
        status: {"description": _DESCRIPTIONS.get(status, "error"),
                 "content": {"application/json": {"schema": ERROR_SCHEMA}}}
        for status in statuses
    }


_DESCRIPTIONS = {400: "Invalid input", 401: "Missing or invalid API key", 403: "Wrong scope or tenant",
                 404: "Not found", 409: "Conflict", 413: "Body too large", 415: "Unsupported media type",
                 429: "Write queue full; retry after Retry-After seconds", 503: "Storage unavailable"}
