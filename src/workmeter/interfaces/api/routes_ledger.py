"""Ledger reports: usage, rejects, conflicts — the same rows as the CLI's ``--json``.

``GET /api/v1/usage?by=customer,model&from=…&to=…`` returns exactly what
``workmeter usage --by customer,model --from … --to … --json`` prints. A
customer-bound key sees only its customer's rows. Rejects and conflicts hold
raw payloads that may belong to any customer (a rejected event may have no
valid subject), so they need an unbound key.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Security
from starlette.responses import Response

from workmeter.interfaces.api.auth import READ, Principal, subjects_for
from workmeter.interfaces.api.params import CUSTOMERS, FROM, TO, by_pattern, instant, rows_doc, unbound_only
from workmeter.interfaces.api.render import Page, rows_response
from workmeter.ledger.usage import GROUP_KEYS

router = APIRouter(tags=["ledger"])


@router.get("/api/v1/usage", summary="Usage: event counts, token buckets (and cost) per group",
            responses=rows_doc())
def usage(request: Request, by: str = Query("customer", description="Group keys, comma separated.",
                                            pattern=by_pattern(GROUP_KEYS)),
          start: str | None = FROM, end: str | None = TO, customer: list[str] | None = CUSTOMERS,
          page: Page = Depends(), principal: Principal = Security(READ)) -> Response:
    rows = request.app.state.wm.usage(by, instant(start, "from"), instant(end, "to"),
                                      subjects_for(principal, customer))
    return rows_response(request, rows, page)


@router.get("/api/v1/rejects", summary="Rejected events with the reason (newest first)",
            responses=rows_doc())
def rejects(request: Request, limit: int = Query(50, ge=1, le=100_000),
            principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    return rows_response(request, request.app.state.wm.ledger.rejects(limit))


@router.get("/api/v1/conflicts", summary="Re-sent (source, id) with a different payload (newest first)",
            responses=rows_doc())
def conflicts(request: Request, limit: int = Query(50, ge=1, le=100_000),
              principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    return rows_response(request, request.app.state.wm.ledger.conflicts(limit))
