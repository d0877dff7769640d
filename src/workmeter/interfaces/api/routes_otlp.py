"""``POST /v1/traces``: the OTLP/HTTP trace receiver (protobuf or JSON, gzip).

The answer is an ``ExportTraceServiceResponse`` in the request's encoding;
spans refused (no customer, or rejected by the ledger) are counted in
``partial_success.rejected_spans`` with the first reasons in
``error_message``. Events are committed before the answer, like any ingest;
a model call held for its agent spans (:mod:`~workmeter.interfaces.api.otlp_store`)
is stored before the answer and billed when they arrive, or by
:func:`flush_held` once it has waited ``otlp_hold_seconds``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, FastAPI, Request, Security
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.responses import Response

from workmeter.interfaces.api import otlp_store
from workmeter.interfaces.api.auth import INGEST, Principal
from workmeter.interfaces.api.body import media_type, read_body
from workmeter.interfaces.api.errors import error_responses
from workmeter.interfaces.api.otlp import PROTOBUF_TYPES, SpanMapper, decode

router = APIRouter(tags=["otlp"])

_RESPONSE_SCHEMA = {"type": "object", "properties": {"partialSuccess": {"type": "object", "properties": {
    "rejectedSpans": {"type": ["string", "integer"]}, "errorMessage": {"type": "string"}}}}}
_MAX_REASONS = 5


@router.post(
    "/v1/traces",
    summary="OTLP/HTTP trace export (OpenTelemetry GenAI spans → usage and task events)",
    response_class=Response,
    responses={
        200: {"description": "Export accepted (see partialSuccess for refused spans).",
              "content": {"application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                          "application/json": {"schema": _RESPONSE_SCHEMA}}},
        **error_responses(400, 401, 403, 413, 415, 429, 503),
    },
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": {"type": "object", "properties": {
            "resourceSpans": {"type": "array", "items": {"type": "object"}}}}},
    }}},
)
async def export_traces(request: Request, principal: Principal = Security(INGEST)) -> Response:
    settings = request.app.state.settings
    media = media_type(request)
    body = await read_body(request, settings.max_body_bytes)
    export = decode(body, media)
    db = request.app.state.wm.db
    hold = settings.otlp_hold_seconds > 0
    traces = {span.trace_id for rs in export.resource_spans for ss in rs.scope_spans for span in ss.spans}
    tasks, held = await asyncio.to_thread(otlp_store.load, db, traces) if hold else ([], [])
    mapped = SpanMapper(settings.customer_attributes, principal.customer).map(
        export, context=tasks, held=held, hold=hold)
    if hold:  # kept before the answer: a held call is acknowledged, so it must not be lost
        await asyncio.to_thread(otlp_store.keep, db, mapped.tasks, mapped.held)
    reasons = dict(mapped.rejected)
    if mapped.rejected:
        request.app.state.metrics.inc("workmeter_otlp_spans_rejected_total", len(mapped.rejected))
    if mapped.events:
        outcome = await request.app.state.writer.submit(mapped.events, origin="otlp", with_results=True)
        for result in outcome.results or []:
            if result["status"] == "rejected":
                span = mapped.span_of_event[result["position"]]
                reasons.setdefault(span, f"span {span}: {result['reason']}")
    if mapped.released:
        await asyncio.to_thread(otlp_store.release, db, mapped.released)
    response = ExportTraceServiceResponse()
    if reasons:
        response.partial_success.rejected_spans = len(reasons)
        response.partial_success.error_message = "; ".join(list(reasons.values())[:_MAX_REASONS])
    if media in PROTOBUF_TYPES:
        return Response(response.SerializeToString(), media_type="application/x-protobuf")
    return Response(json_format.MessageToJson(response, indent=None), media_type="application/json")


#: How long the task spans kept for later requests are remembered.
TASK_MEMORY = timedelta(days=1)


async def flush_held(app: FastAPI) -> int:
    """Bill the held calls that waited long enough, with what is known; returns how many.

    A call that still has no customer becomes a rejected event in the ledger (a dead letter,
    with its raw payload): there is no request left to refuse it to.
    """
    settings = app.state.settings
    db = app.state.wm.db
    now = datetime.now(UTC)
    due = await asyncio.to_thread(otlp_store.due, db, now - timedelta(seconds=settings.otlp_hold_seconds))
    if due:
        tasks, _ = await asyncio.to_thread(otlp_store.load, db, {n.span.trace_id for n in due})
        mapped = SpanMapper(settings.customer_attributes).map(
            ExportTraceServiceRequest(), context=tasks, held=due, dead_letter=True)
        if mapped.events:
            await app.state.writer.submit(mapped.events, origin="otlp")
        await asyncio.to_thread(otlp_store.release, db, mapped.released)
    await asyncio.to_thread(otlp_store.prune, db, now - TASK_MEMORY)
    return len(due)
