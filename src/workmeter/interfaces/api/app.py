"""The HTTP application: routers, the one error mapping, the writer's lifecycle.

``create_app(settings)`` opens the database when the server starts and, on
shutdown, stops taking writes, commits everything queued (graceful drain),
writes key last-used times and closes the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from workmeter.interfaces.api import (
    errors,
    otlp_store,
    routes_billing,
    routes_catalog,
    routes_corrections,
    routes_ingest,
    routes_invoices,
    routes_keys,
    routes_ledger,
    routes_ops,
    routes_otlp,
    routes_prices,
    routes_simulate,
    routes_work,
)
from workmeter.interfaces.api.logs import AccessMiddleware
from workmeter.interfaces.api.metrics import standard_registry
from workmeter.interfaces.api.settings import ServerSettings
from workmeter.interfaces.api.writer import GroupCommitWriter

log = logging.getLogger("workmeter.server")

#: Every router, in the order the OpenAPI document lists them.
ROUTERS = (routes_ingest, routes_otlp, routes_ledger, routes_corrections, routes_prices, routes_catalog,
           routes_billing, routes_invoices,
           routes_work, routes_simulate, routes_keys, routes_ops)


def create_app(settings: ServerSettings, wm: Any = None) -> FastAPI:
    """The app; ``wm`` (a :class:`workmeter.app.Workmeter`) is opened from ``settings.db`` when absent."""
    metrics = standard_registry()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from workmeter.app import Workmeter

        owned = wm is None
        app.state.wm = Workmeter.open(settings.db, threads=settings.db_threads) if owned else wm
        app.state.wm.db.ensure(*otlp_store.DDL)
        app.state.writer = GroupCommitWriter(app.state.wm.ledger, metrics,
                                             max_queued_events=settings.max_queued_events,
                                             max_batch_events=settings.max_batch_events)
        app.state.writer.start()
        flusher = asyncio.create_task(_flush_keys(app, settings.key_flush_seconds))
        holder = asyncio.create_task(_flush_held(app, settings.otlp_hold_seconds))
        log.info("ready", extra={"db": str(settings.db), "auth": settings.auth})
        try:
            yield
        finally:
            flusher.cancel()
            holder.cancel()
            await asyncio.to_thread(app.state.writer.close)
            await asyncio.to_thread(app.state.wm.keys.flush_last_used)
            if owned:
                app.state.wm.close()
            log.info("stopped: write queue drained")

    app = FastAPI(title="workmeter", version=_version(), lifespan=lifespan,
                  description="Usage-based billing and value metering for AI work.")
    app.state.settings = settings
    app.state.metrics = metrics
    errors.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    app.add_middleware(AccessMiddleware, metrics=metrics)
    _drop_422_docs(app)
    return app


async def _flush_keys(app: FastAPI, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(app.state.wm.keys.flush_last_used)
        except Exception:
            log.exception("could not write key last-used times")


async def _flush_held(app: FastAPI, hold: float) -> None:
    """Bill OTLP model calls that waited ``hold`` seconds for their agent spans (checked often)."""
    if hold <= 0:
        return
    while True:
        await asyncio.sleep(min(30.0, max(hold / 4, 0.05)))
        try:
            await routes_otlp.flush_held(app)
        except Exception:
            log.exception("could not bill held OTLP calls")


def _drop_422_docs(app: FastAPI) -> None:
    """Validation errors answer 400 in the one error shape; document that, not FastAPI's 422."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            for path in schema.get("paths", {}).values():
                for op in path.values():
                    op.get("responses", {}).pop("422", None)
            schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
            schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("workmeter")
    except Exception:
        return "0.1.0"
