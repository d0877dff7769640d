"""Ledger reports: usage, rejects, conflicts — the same rows as the CLI's ``--json``.

``GET /api/v1/usage?by=customer,model&from=…&to=…`` returns exactly what
``workmeter usage --by customer,model --from … --to … --json`` prints. A
customer-bound key sees only its customer's rows. Rejects and conflicts hold
raw payloads that may belong to any customer (a rejected event may have no
valid subject), so they need an unbound key.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Security
from starlette.responses import Response

from workmeter.core.errors import Forbidden, InvalidInput
from workmeter.core.timeutil import parse_instant
from workmeter.interfaces.api.auth import READ, Principal, subjects_for
from workmeter.interfaces.api.errors import error_responses
from workmeter.interfaces.api.render import Page, rows_response
from workmeter.ledger.usage import GROUP_KEYS, usage_report

router = APIRouter(tags=["ledger"])


def rows_doc(*errors: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: a JSON array of report rows (or CSV), plus the given error statuses."""
    return {200: {"description": "Report rows (the CLI's --json output)", "content": {
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        "text/csv": {"schema": {"type": "string"}}}},
        **error_responses(400, 401, 403, *errors)}


#: What :func:`workmeter.core.timeutil.parse_instant` takes: a month, a date or an RFC 3339 time.
INSTANT_SCHEMA: dict[str, Any] = {"anyOf": [
    {"type": "string", "pattern": r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"},
    {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"},
]}
FROM = Query(None, alias="from", description="Start (inclusive): month, date or RFC 3339 time.",
             json_schema_extra=INSTANT_SCHEMA)
TO = Query(None, alias="to", description="End (exclusive): month, date or RFC 3339 time.",
           json_schema_extra=INSTANT_SCHEMA)
CUSTOMERS = Query(None, alias="customer", description="Only these customers (repeatable).")


def instant(value: str | None, field: str) -> datetime | None:
    """A ``from``/``to`` parameter (absent → open-ended; empty is an error)."""
    return None if value is None else parse_instant(value, field=field)


def by_schema(keys: Iterable[str]) -> dict[str, Any]:
    """A comma-separated list of group keys, as a pattern the OpenAPI document states."""
    alt = "|".join(keys)
    return {"type": "string", "pattern": f"^({alt})(,({alt}))*$"}


def unbound_only(principal: Principal) -> None:
    if principal.customer is not None:
        raise Forbidden("this report spans every customer; it needs a key that is not bound to one",
                        where="customer")


@router.get("/api/v1/usage", summary="Usage: event counts, token buckets (and cost) per group",
            responses=rows_doc())
def usage(request: Request, by: str = Query("customer", description="Group keys, comma separated.",
                                            json_schema_extra=by_schema(GROUP_KEYS)),
          start: str | None = FROM, end: str | None = TO, customer: list[str] | None = CUSTOMERS,
          page: Page = Depends(), principal: Principal = Security(READ)) -> Response:
    if not by.strip(","):
        raise InvalidInput("by needs at least one group key", where="by")
    rows = usage_report(request.app.state.wm.db, by, instant(start, "from"), instant(end, "to"),
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
