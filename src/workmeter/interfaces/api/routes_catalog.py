"""The price catalog's upkeep: sync, check, books, rerate — ``workmeter prices sync|check|books`` and ``rerate``.

``sync`` imports the installed list prices as a new catalog version when
anything changed (keeping the latest version's price books); rated usage keeps
its catalog until a ``rerate`` records a new rating run over [from, to).
Both change what customers are billed, so they need ``admin``. ``check``
lists overlapping or missing price rows and models seen without a price: the
provider's own data over every customer, so it needs an unbound key, as does
listing the price books. Removing books (one, or all) records a new catalog
version without them, like ``sync``: admin only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Security
from starlette.responses import Response

from workmeter.interfaces.api.auth import ADMIN, READ, Principal
from workmeter.interfaces.api.bodies import RerateIn, parse, schema
from workmeter.interfaces.api.params import instant, object_doc, rows_doc, unbound_only
from workmeter.interfaces.api.render import JSON, rows_response

router = APIRouter(tags=["prices"])


def _sync(wm: Any) -> dict[str, Any]:
    result = wm.catalog.sync(None)
    return dict(result.as_dict() | {"rating_run": wm.rater.current_run().run_id})


@router.post("/api/v1/prices/sync",
             summary="Import the installed list prices as a new catalog version if they changed",
             responses=object_doc())
async def sync(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    return JSON(await asyncio.to_thread(_sync, request.app.state.wm))


def _check(wm: Any, catalog_version: str | None) -> list[dict[str, Any]]:
    from workmeter.catalog.check import check_catalog

    issues = check_catalog(wm.catalog.load(catalog_version))
    seen = [{"kind": "unpriced in ledger", "provider": r["provider"], "model": r["model"],
             "service_tier": r["service_tier"], "detail": f"{r['reason']} ({r['events']:,} events)"}
            for r in wm.rater.unpriced()]
    return list(issues) + seen


@router.get("/api/v1/prices/check",
            summary="Overlapping or missing price rows, and models seen in the ledger without a price",
            responses=rows_doc(404))
def check(request: Request, catalog_version: str | None = Query(None, min_length=1, max_length=200),
          principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    return rows_response(request, _check(request.app.state.wm, catalog_version))


@router.post("/api/v1/rerate",
             summary="Record a new rating run: usage in [from, to) is priced by the catalog version from now on",
             responses=object_doc(404, 409, 413), openapi_extra=schema(RerateIn))
async def rerate(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, RerateIn)
    run = await asyncio.to_thread(request.app.state.wm.rater.rerate, instant(b.from_, "from"),
                                  instant(b.to, "to"), b.catalog_version, b.note)
    return JSON(run.as_dict())


@router.get("/api/v1/prices/books", summary="The price books of the current catalog version, in the order they apply",
            responses=rows_doc(404))
def books(request: Request, catalog_version: str | None = Query(None, min_length=1, max_length=200),
          principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    wm = request.app.state.wm
    if catalog_version is not None:
        wm.catalog.load(catalog_version)  # 404 for an unknown version
    return rows_response(request, wm.catalog.books(catalog_version))


def _remove(wm: Any, names: list[str] | None) -> dict[str, Any]:
    result = wm.catalog.remove_books(names)
    return dict(result.as_dict() | {"rating_run": wm.rater.current_run().run_id})


@router.delete("/api/v1/prices/books/{name}",
               summary="A new catalog version without this price book (the others are kept)",
               responses=object_doc(404))
async def remove_book(request: Request, name: str = Path(..., min_length=1, max_length=200),
                      principal: Principal = Security(ADMIN)) -> Response:
    return JSON(await asyncio.to_thread(_remove, request.app.state.wm, [name]))


@router.delete("/api/v1/prices/books", summary="A new catalog version without any price book",
               responses=object_doc())
async def remove_books(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    return JSON(await asyncio.to_thread(_remove, request.app.state.wm, None))
