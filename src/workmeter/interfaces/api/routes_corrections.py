"""Corrections: void or amend an accepted event, and its audit history.

The same ledger calls as ``workmeter events void|amend|history``: a void or
an amendment is a new correction record (never an UPDATE) and answers
``{"revision": n}``; ``history`` is the rows ``workmeter events history
--json`` prints. Corrections change what every customer is billed, so they
need ``admin``. History needs ``read``; a customer-bound key sees the
history of its own customer's events only (another customer's is 403).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request, Security
from starlette.responses import Response

from workmeter.interfaces.api.auth import ADMIN, READ, Principal, check_customer
from workmeter.interfaces.api.bodies import EventAmendIn, EventVoidIn, parse, schema
from workmeter.interfaces.api.params import object_doc, rows_doc
from workmeter.interfaces.api.render import JSON, rows_response

router = APIRouter(tags=["ledger"])

_SUBJECTS = ("SELECT subject FROM events WHERE source = ? AND id = ? "
             "UNION SELECT subject FROM corrections WHERE source = ? AND id = ?")


@router.post("/api/v1/events/void", summary="Void an event: reports stop counting it; the original stays",
             responses=object_doc(404, 409, 413), openapi_extra=schema(EventVoidIn))
async def void(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, EventVoidIn)
    rev = await asyncio.to_thread(request.app.state.wm.ledger.void, b.source, b.id, b.reason)
    return JSON({"revision": rev})


@router.post("/api/v1/events/amend",
             summary="Replace an event's payload (same source and id); the original stays auditable",
             responses=object_doc(404, 409, 413), openapi_extra=schema(EventAmendIn))
async def amend(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, EventAmendIn, request.app.state.settings.max_body_bytes)
    rev = await asyncio.to_thread(request.app.state.wm.ledger.amend, b.event, b.reason)
    return JSON({"revision": rev})


@router.get("/api/v1/events/history", summary="Every correction of one event, oldest first",
            responses=rows_doc())
def history(request: Request, source: str = Query(..., min_length=1, max_length=200),
            id: str = Query(..., min_length=1, max_length=200),
            principal: Principal = Security(READ)) -> Response:
    from workmeter.ledger.corrections import history as corrections_history

    db = request.app.state.wm.db
    if principal.customer is not None:
        subjects = {r[0] for r in db.read().execute(_SUBJECTS, [source, id, source, id]).fetchall()}
        for subject in subjects:
            check_customer(principal, subject)
    return rows_response(request, corrections_history(db, source, id))
