"""Operations: liveness, readiness and Prometheus metrics (no API key needed, no customer data)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from workmeter.interfaces.api.render import JSON

router = APIRouter(tags=["operations"])
log = logging.getLogger("workmeter.api")

#: Seconds between recounts of unpriced usage for /metrics.
UNPRICED_EVERY = 30.0

_STATUS = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}


@router.get("/healthz", summary="Liveness: the process answers",
            responses={200: {"content": {"application/json": {"schema": _STATUS}}}})
async def healthz() -> Any:
    return JSON({"status": "ok"})


@router.get("/readyz", summary="Readiness: the writer runs and the database answers",
            responses={200: {"content": {"application/json": {"schema": _STATUS}}},
                       503: {"description": "Not ready", "content": {"application/json": {"schema": _STATUS}}}})
def readyz(request: Request) -> Any:
    writer = request.app.state.writer
    if not writer.alive:
        return JSON({"status": "not ready", "reason": "the writer is not running"}, status_code=503)
    try:
        request.app.state.wm.db.read().execute("SELECT 1").fetchone()
    except Exception as exc:
        return JSON({"status": "not ready", "reason": f"database: {type(exc).__name__}"}, status_code=503)
    return JSON({"status": "ready", "queued_events": writer.queued_events})


@router.get("/metrics", summary="Prometheus metrics (text format 0.0.4)",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics(request: Request) -> Response:
    await _refresh_unpriced(request)
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


async def _refresh_unpriced(request: Request) -> None:
    """``workmeter_unpriced_events``: usage events without a price, recounted at most every 30 s."""
    state = request.app.state
    now = time.monotonic()
    if now - getattr(state, "unpriced_at", -UNPRICED_EVERY) < UNPRICED_EVERY:
        return
    state.unpriced_at = now
    try:
        rows = await asyncio.to_thread(state.wm.rater.unpriced)
    except Exception as exc:  # no catalog yet, or a busy database: keep the last value
        log.warning("unpriced count unavailable", extra={"error": type(exc).__name__})
        return
    state.metrics.set("workmeter_unpriced_events", "Usage events without a price (never counted as $0).",
                      sum(int(r["events"]) for r in rows))
