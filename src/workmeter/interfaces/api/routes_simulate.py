"""The pricing simulator over HTTP — ``workmeter simulate PLANS… --period … --json``.

Plans come as TOML texts in the JSON body (``{"plans": [{"name": "a.toml",
"toml": "…"}], "period": "2026-10", "customers"?: […]}``); each is checked
first (a bad plan is 400 naming it), then written under its name to a private
temporary directory and simulated exactly as the CLI simulates plan files.
Simulating changes nothing, so it needs ``read``; a customer-bound key may
simulate only its own customer (any other is 403), and by default does.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Security
from starlette.responses import Response

from workmeter.core.errors import InvalidInput
from workmeter.interfaces.api.auth import READ, Principal, subjects_for
from workmeter.interfaces.api.bodies import PlanText, SimulateIn, parse, schema
from workmeter.interfaces.api.params import object_doc
from workmeter.interfaces.api.render import JSON

router = APIRouter(tags=["work"])


def _simulate(wm: Any, plans: list[PlanText], period: str, customers: list[str] | None) -> dict[str, Any]:
    from workmeter.billing.plan_files import load_plan_text

    names = [p.name for p in plans]
    if len(set(names)) != len(names):
        raise InvalidInput("plan names must be distinct", where="plans")
    for plan in plans:
        load_plan_text(plan.toml, plan.name)  # errors name the plan, not a temporary path
    with tempfile.TemporaryDirectory(prefix="wm-simulate-") as folder:
        paths = [Path(folder) / name for name in names]
        for path, plan in zip(paths, plans, strict=True):
            path.write_text(plan.toml, encoding="utf-8")
        result: dict[str, Any] = wm.work.simulate(paths, period, customers=customers)
    return result


@router.post("/api/v1/simulate",
             summary="What each customer would pay, and the margin over rated cost, under each plan",
             responses=object_doc(404, 413), openapi_extra=schema(SimulateIn))
async def simulate(request: Request, principal: Principal = Security(READ)) -> Response:
    b = await parse(request, SimulateIn, request.app.state.settings.max_body_bytes)
    customers = subjects_for(principal, b.customers)
    return JSON(await asyncio.to_thread(_simulate, request.app.state.wm, b.plans, b.period, customers))
