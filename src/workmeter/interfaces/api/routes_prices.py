"""Pricing: quotes (single and batch), unpriced usage, price cards, catalog versions, rating runs.

The JSON is what ``workmeter prices quote|show|versions|runs`` and
``workmeter unpriced`` print with ``--json``. A quote that finds no price
answers 200 with ``"status": "unpriced"`` and the reason (never $0). Quotes,
price cards and catalog data are the provider's own costs, so they need a key
that is not bound to a customer; ``unpriced`` is per customer.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import orjson
from fastapi import APIRouter, Query, Request, Security
from starlette.responses import Response

from workmeter.core.errors import InvalidInput
from workmeter.interfaces.api.auth import READ, Principal, subjects_for
from workmeter.interfaces.api.bodies import QuoteIn, parse, schema
from workmeter.interfaces.api.body import media_type, read_body
from workmeter.interfaces.api.errors import UnsupportedMedia, error_responses
from workmeter.interfaces.api.params import (
    CUSTOMERS,
    FROM,
    INSTANT_SCHEMA,
    TO,
    instant,
    object_doc,
    rows_doc,
    unbound_only,
)
from workmeter.interfaces.api.render import JSON, dumps, object_response, rows_response
from workmeter.rating.quote import Quoter

router = APIRouter(tags=["prices"])

TIERS = ["standard", "batch", "flex", "priority"]
NDJSON = "application/x-ndjson"
def _quoter(request: Request) -> Quoter:
    return Quoter(request.app.state.wm.rater.segments())


@router.post("/api/v1/prices/quote", summary="Price one usage object (as `workmeter prices quote --json`)",
             responses=object_doc(413, 415),
             openapi_extra=schema(QuoteIn))
async def quote(request: Request, principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    q = await parse(request, QuoteIn, request.app.state.settings.max_body_bytes)
    result = _quoter(request).quote(q.provider, q.model, instant(q.at, "at"), q.usage, q.usage_format,
                                    q.service_tier)
    return object_response(request, result)


@router.post("/api/v1/prices/quote/batch",
             summary="Price many usage objects: ndjson in → ndjson out, or a JSON array → a JSON array",
             responses={200: {"description": "One result per request line, in order", "content": {
                 NDJSON: {"schema": {"type": "string"}},
                 "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
                 **error_responses(400, 401, 403, 413, 415)},
             openapi_extra={"requestBody": {"required": True, "content": {
                 NDJSON: {"schema": {"type": "string"}},
                 "application/json": {"schema": {"type": "array", "items": {
                     "description": "A quote request (see /api/v1/prices/quote); one that cannot be read "
                                    "yields a result with status 'invalid', never a failed batch."}}}}}})
async def quote_batch(request: Request, principal: Principal = Security(READ)) -> Response:
    """Each line is priced alone: a bad line is a result with ``"status": "invalid"``, never a failure."""
    unbound_only(principal)
    media = media_type(request)
    if media not in (NDJSON, "application/json"):
        raise UnsupportedMedia(f"send {NDJSON} or a JSON array", where="content-type")
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    limit = request.app.state.settings.max_events_per_request
    quoter = _quoter(request)
    if media == NDJSON:
        lines = body.splitlines()
        _check_count(sum(1 for ln in lines if ln.strip()), limit)
        out = await asyncio.to_thread(lambda: b"".join(dumps(r) + b"\n" for r in quoter.quote_lines(lines)))
        return Response(out, media_type=NDJSON)
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", where="body") from None
    if not isinstance(items, list):
        raise InvalidInput("body must be a JSON array of quote requests", where="body")
    _check_count(len(items), limit)
    return JSON(await asyncio.to_thread(lambda: [quoter.quote_line(orjson.dumps(item)) for item in items]))


def _check_count(n: int, limit: int) -> None:
    if n > limit:
        raise InvalidInput(f"{n} quote requests in one call; the limit is {limit}", where="body")


@router.get("/api/v1/unpriced", summary="Usage without a price, grouped by reason (never counted as $0)",
            responses=rows_doc())
def unpriced(request: Request, start: str | None = FROM, end: str | None = TO,
             customer: list[str] | None = CUSTOMERS,
             run: int | None = Query(None, ge=1, le=2**31, description="As priced by an older rating run."),
             principal: Principal = Security(READ)) -> Response:
    rows = request.app.state.wm.rater.unpriced(instant(start, "from"), instant(end, "to"),
                                               subjects_for(principal, customer), run)
    return rows_response(request, rows)


@router.get("/api/v1/prices/versions", summary="Catalog versions, oldest first", responses=rows_doc())
def versions(request: Request, principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    return rows_response(request, request.app.state.wm.catalog.versions())


@router.get("/api/v1/prices/runs", summary="Rating runs: which catalog version prices which time range",
            responses=rows_doc())
def runs(request: Request, principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    return rows_response(request, [r.as_dict() for r in request.app.state.wm.rater.runs()])


@router.get("/api/v1/prices/card", summary="The effective price card of a model at a time",
            responses=object_doc(404))
def card(request: Request, model: str = Query(..., min_length=1, max_length=200),
         provider: str | None = Query(None, min_length=1, max_length=100),
         at: str | None = Query(None, json_schema_extra=INSTANT_SCHEMA),
         service_tier: Literal["standard", "batch", "flex", "priority"] | None = Query(None),
         catalog_version: str | None = Query(None, min_length=1, max_length=200),
         principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    return object_response(request, request.app.state.wm.catalog.show(model, provider, instant(at, "at"),
                                                                      service_tier, catalog_version))
