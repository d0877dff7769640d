"""Work units: tasks, work rollups, ROI, waste, trends, outcomes — ``workmeter tasks|work|… --json``.

Each route calls the same :class:`workmeter.workunits.service.WorkService`
method as the CLI with the same arguments. A customer-bound key is confined
to its own customer (asking for another is 403).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Security
from starlette.responses import Response

from workmeter.core.money import to_decimal
from workmeter.interfaces.api.auth import READ, Principal
from workmeter.interfaces.api.params import (
    AS_OF,
    CUSTOMER,
    FROM,
    TO,
    by_pattern,
    instant,
    one_customer,
    rows_doc,
)
from workmeter.interfaces.api.render import Page, rows_response
from workmeter.workunits.rollups import DIMENSIONS
from workmeter.workunits.waste import DIMENSIONS as WASTE_DIMENSIONS

router = APIRouter(tags=["work"])

WORKFLOW = Query(None, min_length=1, max_length=200)
OUTCOME_PRICE = Query(None, pattern=r"^[0-9]{1,12}(\.[0-9]{1,6})?$",
                      description="Price per billed outcome: adds revenue, margin, margin_rate.")
BY = by_pattern(DIMENSIONS)


class Window:
    """``from`` / ``to`` (tasks started in [from, to)) and ``as_of`` (judge inactivity at), parsed."""

    def __init__(self, start: str | None = FROM, end: str | None = TO,
                 as_of: str | None = AS_OF, customer: str | None = CUSTOMER) -> None:
        self.args: dict[str, Any] = {"start": instant(start, "from"), "end": instant(end, "to"),
                                     "as_of": instant(as_of, "as_of")}
        self.customer = customer


def _args(window: Window, principal: Principal) -> dict[str, Any]:
    return {**window.args, "customer": one_customer(principal, window.customer)}


def _work(request: Request) -> Any:
    return request.app.state.wm.work


def _price(text: str | None) -> Decimal | None:
    return to_decimal(text, field="outcome_price") if text else None


@router.get("/api/v1/tasks", summary="One row per task: status, cost with subtasks, outcome, value",
            responses=rows_doc())
def tasks(request: Request, workflow: str | None = WORKFLOW,
          status: Literal["completed", "failed", "abandoned", "running"] | None = Query(None),
          top: bool = Query(False, description="Only top-level tasks."), window: Window = Depends(),
          page: Page = Depends(), principal: Principal = Security(READ)) -> Response:
    rows = _work(request).tasks(workflow=workflow, status=status, top_only=top, **_args(window, principal))
    return rows_response(request, rows, page)


@router.get("/api/v1/work", summary="Tasks per group, cost per completed task (fully loaded and naive)",
            responses=rows_doc())
def work(request: Request, by: str = Query("workflow", pattern=BY), scope: Literal["top", "all"] = Query("top"),
         workflow: str | None = WORKFLOW, outcome_price: str | None = OUTCOME_PRICE,
         window: Window = Depends(), page: Page = Depends(), principal: Principal = Security(READ)) -> Response:
    rows = _work(request).work(by, scope=scope, workflow=workflow, outcome_price=_price(outcome_price),
                               **_args(window, principal))
    return rows_response(request, rows, page)


@router.get("/api/v1/roi", summary="Value against cost per group", responses=rows_doc())
def roi(request: Request, by: str = Query("workflow", pattern=BY), outcome_price: str | None = OUTCOME_PRICE,
        window: Window = Depends(), principal: Principal = Security(READ)) -> Response:
    rows = _work(request).roi(by, outcome_price=_price(outcome_price), **_args(window, principal))
    return rows_response(request, rows)


@router.get("/api/v1/waste", summary="Waste ranked in dollars, with estimated savings and example tasks",
            responses=rows_doc())
def waste(request: Request, by: str = Query("", pattern=by_pattern(WASTE_DIMENSIONS, allow_empty=True)),
          window: Window = Depends(), principal: Principal = Security(READ)) -> Response:
    rows = _work(request).waste(by or (), **_args(window, principal))
    return rows_response(request, rows)


@router.get("/api/v1/trends", summary="Token growth vs completed-work growth vs value growth",
            responses=rows_doc())
def trends(request: Request, by: str = Query("workflow", pattern=BY),
           period: Literal["day", "week", "month"] = Query("month"), window: Window = Depends(),
           principal: Principal = Security(READ)) -> Response:
    rows = _work(request).trends(by, period=period, **_args(window, principal))
    return rows_response(request, rows)


@router.get("/api/v1/outcomes", summary="Outcome bills and clawbacks", responses=rows_doc())
def outcomes(request: Request, window: Window = Depends(), principal: Principal = Security(READ)) -> Response:
    rows = _work(request).outcome_timeline(**_args(window, principal))
    return rows_response(request, rows)
