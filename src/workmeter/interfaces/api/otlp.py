"""OpenTelemetry GenAI spans → workmeter events (OTLP/HTTP, protobuf or JSON).

Decoding uses ``opentelemetry-proto`` (OTLP JSON's hex trace/span ids are
turned into the protobuf JSON mapping first). The mapping rules:

* **inference spans** — ``gen_ai.operation.name`` in :data:`INFERENCE_OPERATIONS`,
  or no operation but ``gen_ai.usage.*`` attributes — become one ``llm.usage``
  event: ``id`` = span id (hex), ``source`` = resource ``service.name`` (else
  ``otlp``), ``time`` = span end, ``provider`` = ``gen_ai.provider.name`` else
  ``gen_ai.system`` (``gcp.*``/``gemini``/``vertex_ai`` → ``google``), ``model`` =
  ``gen_ai.response.model`` else ``gen_ai.request.model``, ``usage`` = every
  ``gen_ai.usage.*`` attribute with ``usage_format = "otel"`` (the normalizer
  applies the inclusion rules), ``service_tier`` = the served tier
  (``openai.response.service_tier`` and friends; OpenAI's ``default`` is
  ``standard``), ``task_id`` = the span's own ``workmeter.task_id``, else the
  task of the nearest agent span above it (:mod:`~workmeter.interfaces.api.otlp_tree`),
  else the trace id (hex).
* **task spans** — ``invoke_agent`` / ``invoke_workflow`` spans and root spans —
  become ``task.started`` (at span start) and ``task.completed`` /
  ``task.failed`` (at span end, by span status). The task id is the span's
  ``workmeter.task_id``, else the trace id for a root span, else
  ``<trace id>/<span id>``; a nested task's parent is the nearest task span
  above it (else the trace). ``workflow`` = ``gen_ai.agent.name`` else
  ``gen_ai.workflow.name`` else the span name.
* **customer** — the API key's bound customer, else the first of the
  configured attributes (default ``workmeter.customer``; e.g. ``enduser.id``,
  ``tenant.id``) found on the span, then on the nearest agent span above it
  that has one, then on the span's resource. A usage or agent span without a
  customer is rejected with a reason (never billed to nobody); a root span that
  carries no ``gen_ai.*`` attribute and no customer is ordinary tracing and is
  skipped.
* **attributes** (string → string) — resource ``service.*`` and
  ``deployment.environment*``; labels implied by the span and the agent spans
  above it (``enduser.id`` as ``user``, ``gen_ai.agent.name`` as ``workflow``,
  ``gen_ai.agent.id`` as ``agent_id``; nearest wins); every ``workmeter.<name>``
  attribute as ``<name>``, explicit over implied: the span's own, then the agent
  spans' (nearest first), then the resource's.

Inheritance works within one export request, whatever the order of its spans,
and through the agent spans of earlier requests of the same trace; a call with
no customer yet whose agent spans may still come is held until they do
(:mod:`~workmeter.interfaces.api.otlp_store`, docs/server.md).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from workmeter.core.errors import InvalidInput
from workmeter.interfaces.api.errors import UnsupportedMedia
from workmeter.interfaces.api.otlp_tree import (
    TASK_OPERATIONS,
    Context,
    Node,
    SpanTree,
    explicit_labels,
    implied_labels,
    own_task_id,
    text,
)

INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
PROVIDER_ALIASES = {"gcp.gen_ai": "google", "gcp.gemini": "google", "gcp.vertex_ai": "google",
                    "gemini": "google", "vertex_ai": "google"}
SERVICE_TIER_ATTRIBUTES = ("openai.response.service_tier", "gen_ai.openai.response.service_tier",
                           "anthropic.response.service_tier", "gen_ai.anthropic.response.service_tier",
                           "workmeter.service_tier")
TIER_ALIASES = {"default": "standard"}
RESOURCE_ATTRIBUTES = ("service.name", "service.namespace", "service.version", "service.instance.id",
                       "deployment.environment", "deployment.environment.name")


@dataclass
class Mapped:
    """Events made from one export request, and the spans refused before the ledger."""

    events: list[dict[str, Any]] = field(default_factory=list)
    span_of_event: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)   # span id → reason
    spans: int = 0
    tasks: list[Node] = field(default_factory=list)     # task spans of the request (kept for later ones)
    held: list[Node] = field(default_factory=list)      # calls of the request waiting for their ancestors
    released: list[Node] = field(default_factory=list)  # calls held before and mapped now


def decode(body: bytes, media: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        if media in PROTOBUF_TYPES:
            request.ParseFromString(body)
        elif media == "application/json":
            doc = orjson.loads(body)
            spans = doc.get("resourceSpans", []) if isinstance(doc, dict) else None
            if not isinstance(spans, list) or not all(isinstance(rs, dict) for rs in spans):
                raise InvalidInput("an OTLP JSON export is an object with a resourceSpans array", where="body")
            json_format.ParseDict(_ids_to_base64(doc), request, ignore_unknown_fields=True)
        else:
            raise UnsupportedMedia(f"content type {media!r} is not OTLP; use application/x-protobuf or "
                                   "application/json", where="content-type")
    except (DecodeError, json_format.ParseError, orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise InvalidInput(f"not a valid OTLP trace export: {exc}", where="body") from None
    return request


def _ids_to_base64(doc: Any) -> Any:
    """OTLP JSON carries trace/span ids as hex; the protobuf JSON mapping wants base64."""
    for rs in _items(doc, "resourceSpans"):
        for ss in _items(rs, "scopeSpans"):
            for span in _items(ss, "spans"):
                _fix_ids(span)
                for link in _items(span, "links"):
                    _fix_ids(link)
    return doc


def _items(obj: Any, key: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, list) else []


def _fix_ids(obj: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            try:
                obj[key] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise InvalidInput(f"{key} {value!r} is not hex", where=key) from None


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attributes(v.kvlist_value.values)
    if kind == "bytes_value":
        return binascii.hexlify(v.bytes_value).decode()
    return getattr(v, kind) if kind else None


def attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


def _iso(nanos: int) -> str:
    moment = datetime.fromtimestamp(nanos // 1_000_000_000, UTC).replace(microsecond=nanos % 1_000_000_000 // 1000)
    return moment.isoformat().replace("+00:00", "Z")


def _count(value: Any) -> Any:
    """Token counts are integers; some SDKs record them as whole doubles (``12.0``)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class SpanMapper:
    """Turns decoded export requests into CloudEvents, per the module rules."""

    def __init__(self, customer_attributes: Iterable[str], bound_customer: str | None = None) -> None:
        self.customer_attributes = tuple(customer_attributes)
        self.bound_customer = bound_customer

    def map(self, request: ExportTraceServiceRequest, *, context: Iterable[Node] = (),
            held: Iterable[Node] = (), hold: bool = False, dead_letter: bool = False) -> Mapped:
        """Events of the request's spans and of ``held`` calls, walking up through ``context`` too.

        ``hold``: a call of the request with no customer known yet, whose parents do not
        reach a root span yet, is held (``Mapped.held``), not mapped: the agent span above it
        may bring the customer in a later request. A held call stays held until a customer
        is known or its chain is complete.
        ``dead_letter``: a call without a customer still becomes an event (without a
        subject), so the ledger records it as a rejected event instead of only refusing it.
        """
        out = Mapped()
        nodes: list[Node] = []
        for rs in request.resource_spans:
            resource = attributes(rs.resource.attributes)
            for ss in rs.scope_spans:
                for span in ss.spans:
                    out.spans += 1
                    nodes.append(Node(span, attributes(span.attributes), resource, self.bound_customer))
        waiting = list(held)
        tree = SpanTree([*nodes, *waiting, *context], self.customer_attributes)
        for node in nodes:
            if hold and self._waits(node, tree):
                out.held.append(node)
                continue
            if node.is_task and self._gives_context(node):
                out.tasks.append(node)
            self._map_span(node, tree, out, dead_letter)
        for node in waiting:
            if hold and self._waits(node, tree):
                continue
            out.released.append(node)
            self._map_span(node, tree, out, dead_letter)
        return out

    def _gives_context(self, node: Node) -> bool:
        """A task span worth keeping for later requests: an agent span, or one with GenAI,
        workmeter or customer attributes (plain tracing roots are not kept)."""
        return node.op in TASK_OPERATIONS or any(
            k.startswith(("gen_ai.", "workmeter.")) or k in self.customer_attributes for k in node.attrs)

    def _waits(self, node: Node, tree: SpanTree) -> bool:
        """A model call without a customer yet, whose agent spans may still arrive."""
        return (self._inference(node) and self._customer(node, tree.inherited(node)) is None
                and not tree.rooted(node))

    @staticmethod
    def _inference(node: Node) -> bool:
        op = node.op
        return op in INFERENCE_OPERATIONS or (op is None and any(k.startswith("gen_ai.usage.") for k in node.attrs))

    def _map_span(self, node: Node, tree: SpanTree, out: Mapped, dead_letter: bool = False) -> None:
        span, attrs = node.span, node.attrs
        inference = self._inference(node)
        if not inference and not node.is_task:
            return
        span_id = span.span_id.hex()
        inherited = tree.inherited(node)
        customer = self._customer(node, inherited)
        if customer is None and not (dead_letter and inference):
            if inference or any(k.startswith("gen_ai.") for k in attrs):
                names = ", ".join(self.customer_attributes)
                out.rejected[span_id] = f"span {span_id}: no customer (set one of: {names}, on the span, " \
                                        "an agent span above it or the resource, or use a customer-bound API key)"
            return
        base: dict[str, Any] = {"specversion": "1.0", "source": text(node.resource.get("service.name")) or "otlp"}
        if customer is not None:
            base["subject"] = customer
        labels = _labels(node, inherited)
        events = list(_task_events(node, inherited, base, labels)) if node.is_task else []
        if inference:
            events.insert(0, _usage_event(node, inherited, base, labels))
        out.events.extend(events)
        out.span_of_event.extend([span_id] * len(events))

    def _customer(self, node: Node, inherited: Context) -> str | None:
        if node.bound_customer is not None:
            return node.bound_customer
        return self._first_customer(node.attrs) or inherited.customer or self._first_customer(node.resource)

    def _first_customer(self, source: dict[str, Any]) -> str | None:
        return next((t for name in self.customer_attributes if (t := text(source.get(name)))), None)


def _labels(node: Node, inherited: Context) -> dict[str, str]:
    """Resource service labels < implied (path, nearest wins) < explicit (resource < path < span)."""
    resource = {k: t for k in RESOURCE_ATTRIBUTES if (t := text(node.resource.get(k)))}
    return {**resource, **inherited.implied, **implied_labels(node.attrs), **explicit_labels(node.resource),
            **inherited.explicit, **explicit_labels(node.attrs)}


def _usage_event(node: Node, inherited: Context, base: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    span, attrs = node.span, node.attrs
    provider = text(attrs.get("gen_ai.provider.name")) or text(attrs.get("gen_ai.system"))
    task_id = text(attrs.get("workmeter.task_id")) or inherited.task_id or span.trace_id.hex()
    data: dict[str, Any] = {
        "provider": PROVIDER_ALIASES.get(provider or "", provider),
        "model": text(attrs.get("gen_ai.response.model")) or text(attrs.get("gen_ai.request.model")),
        "usage": {k: _count(v) for k, v in attrs.items() if k.startswith("gen_ai.usage.")},
        "usage_format": "otel",
        "task_id": task_id,
        "attributes": labels,
    }
    tier = next((t for k in SERVICE_TIER_ATTRIBUTES if (t := text(attrs.get(k)))), None)
    if tier:
        data["service_tier"] = TIER_ALIASES.get(tier, tier)
    return {**base, "id": span.span_id.hex(), "type": "llm.usage", "time": _iso(span.end_time_unix_nano),
            "data": data}


def _task_events(node: Node, inherited: Context, base: dict[str, Any],
                 labels: dict[str, str]) -> Iterator[dict[str, Any]]:
    span, attrs = node.span, node.attrs
    span_id = span.span_id.hex()
    workflow = text(attrs.get("gen_ai.agent.name")) or text(attrs.get("gen_ai.workflow.name")) or span.name
    data: dict[str, Any] = {"task_id": own_task_id(node), "workflow": workflow, "attributes": labels}
    parent = (inherited.task_id or span.trace_id.hex()) if span.parent_span_id else None
    if parent and parent != data["task_id"]:   # an agent span naming its parent's task id is that task
        data["parent_task_id"] = parent
    failed = span.status.code == Status.STATUS_CODE_ERROR
    yield {**base, "id": f"{span_id}.started", "type": "task.started",
           "time": _iso(span.start_time_unix_nano), "data": data}
    yield {**base, "id": f"{span_id}.ended", "type": "task.failed" if failed else "task.completed",
           "time": _iso(span.end_time_unix_nano), "data": data}
