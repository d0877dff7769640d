"""``POST /api/v1/events``: CloudEvents in, committed before the answer.

Content types (the ``openmeter`` client's three ingest calls):

* ``application/cloudevents+json`` — one event (structured mode);
* ``application/cloudevents-batch+json`` — a JSON array of events;
* ``application/json`` — one event or an array.

Answers ``204`` once every event of the request is committed (accepted,
duplicate, conflict or rejected-with-reason: all recorded). With
``?report=true`` the answer is ``200`` with per-event statuses. A single
posted event (not an array) that is rejected answers ``400 invalid_event``
with the reason (it is kept in the rejects table). A batch is never failed by its bad events.
A customer-bound key may only send events of its customer; events without a
``subject`` get that customer.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import orjson
from fastapi import APIRouter, Query, Request, Security
from starlette.responses import Response

from workmeter.core.errors import Forbidden, InvalidInput
from workmeter.interfaces.api.auth import INGEST, Principal
from workmeter.interfaces.api.body import media_type, read_body
from workmeter.interfaces.api.errors import InvalidEvent, UnsupportedMedia, error_responses
from workmeter.interfaces.api.render import JSON
from workmeter.interfaces.api.writer import Outcome

router = APIRouter(tags=["ingest"])

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
PLAIN = "application/json"

_NONEMPTY = {"type": "string", "minLength": 1}
_FIELDS: dict[str, Any] = {
    "specversion": {"type": "string", "enum": ["1.0"]},
    "id": {**_NONEMPTY, "description": "Unique per source: (source, id) is the idempotency key."},
    "source": _NONEMPTY,
    "type": {**_NONEMPTY, "description": "llm.usage, task.*, or any other type (a generic event)."},
    "subject": {**_NONEMPTY, "description": "The customer id."},
    "time": {"type": "string", "format": "date-time", "description": "RFC 3339 with an offset."},
    "data": {"description": "llm.usage: {provider, model, usage, usage_format?, service_tier?, task_id?, "
                            "attributes?}; other types: any JSON."},
}
#: One event (structured mode): the envelope is checked here; the ledger checks ``data``.
CLOUD_EVENT: dict[str, Any] = {"type": "object", "required": list(_FIELDS)[:6], "properties": _FIELDS,
                               "description": "A CloudEvents 1.0 event."}
#: A batch item: any object; bad items are rejected one by one (see ``report=true`` and /api/v1/rejects).
BATCH_ITEM: dict[str, Any] = {"type": "object",
                              "description": "A CloudEvents 1.0 event; an invalid one is rejected alone, "
                                             "with its reason, and never fails the batch."}
BATCH_SCHEMA: dict[str, Any] = {"type": "array", "items": BATCH_ITEM}
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["accepted", "duplicates", "conflicts", "rejected", "results"],
    "properties": {
        **{k: {"type": "integer"} for k in ("accepted", "duplicates", "conflicts", "rejected")},
        "results": {"type": "array", "items": {
            "type": "object",
            "required": ["position", "status"],
            "properties": {
                "position": {"type": "integer"},
                "source": {"type": ["string", "null"]},
                "id": {"type": ["string", "null"]},
                "status": {"type": "string", "enum": ["accepted", "duplicate", "conflict", "rejected"]},
                "reason": {"type": ["string", "null"]},
            },
        }},
    },
}


def check_media(media: str) -> None:
    if media not in (SINGLE, BATCH, PLAIN, ""):
        raise UnsupportedMedia(f"content type {media!r} is not accepted; use {SINGLE}, {BATCH} or {PLAIN}",
                               where="content-type")


#: The body split into its items' JSON texts: validated, never turned into Python objects.
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_ONE = msgspec.json.Decoder(msgspec.Raw)
_FIRST = re.compile(rb"[ \t\r\n]*(.?)")


def parse_events(body: bytes, media: str, max_events: int) -> tuple[list[str], bool]:
    """Each posted event as its own JSON text, and whether exactly one event (not an array) was sent.

    The body is checked as JSON and cut into its array items without building a Python
    object per event; the ledger parses each text once, in its staging SQL.
    """
    first = _FIRST.match(body)
    kind = first.group(1) if first else b""
    try:
        if kind == b"{" and media != BATCH:
            return _texts([_ONE.decode(body)]), True
        if kind != b"[" or media == SINGLE:
            _ONE.decode(body)  # invalid JSON is said so before the shape
            want = "one JSON object" if media == SINGLE else "a JSON array" if media == BATCH else \
                "a JSON object or array"
            raise InvalidInput(f"body must be {want} of CloudEvents", where="body")
        items = _ITEMS.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", where="body") from None
    if len(items) > max_events:
        raise InvalidInput(f"{len(items)} events in one request; the limit is {max_events}", where="body")
    texts = _texts(items)
    for i, text in enumerate(texts):
        if text[0] != "{":
            raise InvalidInput("every array item must be a JSON object (a CloudEvent)", where=f"body[{i}]")
    return texts, False


def _texts(items: list[msgspec.Raw]) -> list[str]:
    try:
        return [str(item, "utf-8") for item in items]
    except UnicodeDecodeError:
        raise InvalidInput("body is not valid UTF-8", where="body") from None


def bind_subject(texts: list[str], principal: Principal) -> list[Any]:
    """A bound key ingests only its customer's events (a missing subject becomes it).

    The events of a bound key are parsed here (a repeated ``subject`` member resolves to its
    last value, the one checked) and handed on as objects, so what is checked is what is stored.
    """
    customer = principal.customer
    if customer is None:
        return texts
    events: list[dict[str, Any]] = []
    for i, text in enumerate(texts):
        try:
            events.append(orjson.loads(text))
        except orjson.JSONDecodeError as exc:  # e.g. a number out of range for a double
            raise InvalidInput(f"event is not valid JSON: {exc}", where=f"body[{i}]") from None
    for i, event in enumerate(events):
        if event.get("subject") in (None, ""):
            event["subject"] = customer
        elif event["subject"] != customer:
            raise Forbidden(f"this key may only ingest events of customer {customer!r}",
                            where=f"body[{i}].subject")
    return events


def _report(outcome: Outcome) -> dict[str, Any]:
    c = outcome.counts
    return {"accepted": c.get("accepted", 0), "duplicates": c.get("duplicate", 0),
            "conflicts": c.get("conflict", 0), "rejected": c.get("rejected", 0),
            "results": outcome.results or []}


@router.post(
    "/api/v1/events",
    status_code=204,
    summary="Ingest CloudEvents (single, batch, or JSON array)",
    response_class=Response,
    responses={
        204: {"description": "Committed."},
        200: {"description": "Committed; per-event statuses (with report=true).",
              "content": {"application/json": {"schema": REPORT_SCHEMA}}},
        **error_responses(400, 401, 403, 413, 415, 429, 503),
    },
    openapi_extra={"requestBody": {"required": True, "content": {
        SINGLE: {"schema": CLOUD_EVENT},
        BATCH: {"schema": BATCH_SCHEMA},
        PLAIN: {"schema": {"oneOf": [CLOUD_EVENT, BATCH_SCHEMA]}},
    }}},
)
async def ingest_events(
    request: Request,
    report: bool = Query(False, description="Answer 200 with per-event statuses instead of 204."),
    principal: Principal = Security(INGEST),
) -> Response:
    settings = request.app.state.settings
    media = media_type(request)
    check_media(media)
    writer = request.app.state.writer
    with writer.arriving():  # a commit about to start waits for this request's events
        body = await read_body(request, settings.max_body_bytes)
        texts, single = parse_events(body, media, settings.max_events_per_request)
        if not texts:
            return JSON(_report(Outcome({}))) if report else Response(status_code=204)
        events = bind_subject(texts, principal)
        committed = writer.submit(events, origin="api", with_results=report or single, nbytes=len(body))
    outcome = await committed
    if single and outcome.results and outcome.results[0]["status"] == "rejected":
        raise InvalidEvent(outcome.results[0]["reason"] or "rejected", where="event")
    return JSON(_report(outcome)) if report else Response(status_code=204)
