"""The OTLP/HTTP receiver with the real OpenTelemetry SDK and exporter, plus OTLP JSON by hand."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from api_support import ThreadServer
from workmeter.app import Workmeter


@pytest.fixture
def server(wm: Workmeter) -> Iterator[ThreadServer]:
    with ThreadServer(wm, customer_attributes=("workmeter.customer", "tenant.id")) as srv:
        yield srv


def _provider(server: ThreadServer, key: str, resource: dict[str, Any]) -> TracerProvider:
    exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", headers={"Authorization": f"Bearer {key}"},
                                compression=Compression.Gzip, timeout=10)
    provider = TracerProvider(resource=Resource.create(resource))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


CHAT_ATTRS = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 1500,
    "gen_ai.usage.cache_read.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 400,
    "gen_ai.usage.reasoning.output_tokens": 150,
    "openai.response.service_tier": "default",
}


def _events(wm: Workmeter) -> list[dict[str, Any]]:
    cur = wm.db.read().execute("SELECT source, id, type, subject, task_id, model, provider, service_tier, "
                               "input, cache_read, output, reasoning, workflow, data FROM events ORDER BY id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_sdk_app_shows_up_in_usage_and_tasks(server: ThreadServer) -> None:
    key = server.wm.keys.create("ingest")[1]
    provider = _provider(server, key, {"service.name": "support-bot", "workmeter.customer": "cus_a",
                                       "deployment.environment.name": "prod"})
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("invoke_agent triage",
                                      attributes={"gen_ai.operation.name": "invoke_agent",
                                                  "gen_ai.agent.name": "triage"}) as root:
        with tracer.start_as_current_span("chat gpt-4o", attributes=CHAT_ATTRS) as chat:
            pass
        with tracer.start_as_current_span("invoke_agent lookup",
                                          attributes={"gen_ai.operation.name": "invoke_agent",
                                                      "gen_ai.agent.name": "lookup"}) as sub:
            sub.set_status(Status(StatusCode.ERROR, "tool failed"))
    assert provider.force_flush(10_000)
    provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")
    chat_id = format(chat.get_span_context().span_id, "016x")
    sub_id = format(sub.get_span_context().span_id, "016x")
    events = {(e["id"]): e for e in _events(server.wm)}
    usage = events[chat_id]
    assert (usage["type"], usage["source"], usage["subject"], usage["task_id"]) == \
        ("llm.usage", "support-bot", "cus_a", trace_id)
    assert (usage["provider"], usage["model"], usage["service_tier"]) == ("openai", "gpt-4o-2024-08-06", "standard")
    assert (usage["input"], usage["cache_read"], usage["output"], usage["reasoning"]) == (500, 1000, 400, 150)
    assert orjson.loads(usage["data"])["attributes"]["service.name"] == "support-bot"
    assert orjson.loads(usage["data"])["attributes"]["deployment.environment.name"] == "prod"
    root_id = format(root.get_span_context().span_id, "016x")
    assert events[f"{root_id}.started"]["type"] == "task.started"
    assert events[f"{root_id}.ended"]["type"] == "task.completed"
    assert events[f"{root_id}.ended"]["task_id"] == trace_id
    assert events[f"{sub_id}.ended"]["type"] == "task.failed"
    assert orjson.loads(events[f"{sub_id}.ended"]["data"])["parent_task_id"] == trace_id

    admin = server.wm.keys.create("admin")[1]
    with server.client(admin) as c:
        rows = c.get("/api/v1/usage", params={"by": "customer,model,task"}).json()
    assert [(r["customer"], r["model"], r["task"], r["events"], r["input"], r["cache_read"]) for r in rows] == \
        [("cus_a", "gpt-4o-2024-08-06", trace_id, 1, 500, 1000)]
    with server.client(admin) as c:
        tasks = {t["task_id"]: t for t in c.get("/api/v1/tasks", params={"customer": "cus_a"}).json()}
    assert (tasks[trace_id]["workflow"], tasks[trace_id]["status"], tasks[trace_id]["calls_total"]) == \
        ("triage", "completed", 1)
    nested = tasks[f"{trace_id}/{sub_id}"]
    assert (nested["workflow"], nested["status"], nested["parent_task_id"]) == ("lookup", "failed", trace_id)


def test_spans_without_a_customer_are_rejected_with_a_reason(server: ThreadServer) -> None:
    key = server.wm.keys.create("ingest")[1]
    doc = _json_export([_span("aa" * 8, CHAT_ATTRS, parent="")], {"service.name": "bot"})  # a root: nothing to wait for
    with server.client(key) as c:
        r = c.post("/v1/traces", content=orjson.dumps(doc), headers={"content-type": "application/json"})
    assert r.status_code == 200
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] in (1, "1") and "no customer" in partial["errorMessage"]
    assert _events(server.wm) == []


def test_otlp_json_gzip_with_configured_customer_attribute(server: ThreadServer) -> None:
    key = server.wm.keys.create("ingest")[1]
    doc = _json_export([_span("bb" * 8, {**CHAT_ATTRS, "tenant.id": "cus_t"}),
                        _span("cc" * 8, {**CHAT_ATTRS, "gen_ai.usage.reasoning.output_tokens": 9999,
                                         "tenant.id": "cus_t"})], {"service.name": "bot"})
    with server.client(key) as c:
        r = c.post("/v1/traces", content=gzip.compress(orjson.dumps(doc)),
                   headers={"content-type": "application/json", "content-encoding": "gzip"})
        again = c.post("/v1/traces", content=orjson.dumps(doc), headers={"content-type": "application/json"})
    assert r.status_code == 200 and again.status_code == 200
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] in (1, "1") and "cccccccccccccccc" in partial["errorMessage"]
    events = _events(server.wm)
    assert [(e["id"], e["subject"], e["source"]) for e in events] == [("bb" * 8, "cus_t", "bot")]


def test_bound_key_owns_every_span(server: ThreadServer) -> None:
    key = server.wm.keys.create("ingest", customer="cus_bound")[1]
    doc = _json_export([_span("dd" * 8, {**CHAT_ATTRS, "workmeter.customer": "cus_other"})], {})
    with server.client(key) as c:
        assert c.post("/v1/traces", content=orjson.dumps(doc),
                      headers={"content-type": "application/json"}).status_code == 200
    assert [(e["subject"], e["source"]) for e in _events(server.wm)] == [("cus_bound", "otlp")]


def test_receiver_refuses_bad_input(server: ThreadServer) -> None:
    key = server.wm.keys.create("ingest")[1]
    read = server.wm.keys.create("read")[1]
    with server.client(key) as c:
        assert c.post("/v1/traces", content=b"\x0a\xff\xff", headers={"content-type": "application/x-protobuf"}
                      ).json()["error"]["code"] == "invalid_input"
        assert c.post("/v1/traces", content=b"{}", headers={"content-type": "text/plain"}).status_code == 415
    with httpx.Client(base_url=server.url) as c:
        assert c.post("/v1/traces", content=b"{}", headers={"content-type": "application/json"}).status_code == 401
        assert c.post("/v1/traces", content=b"{}", headers={"content-type": "application/json",
                                                              "X-Api-Key": read}).status_code == 403


def _span(span_id: str, attrs: dict[str, Any], parent: str = "ee" * 8) -> dict[str, Any]:
    return {"traceId": "ab" * 16, "spanId": span_id, "parentSpanId": parent, "name": "chat", "kind": 3,
            "startTimeUnixNano": "1790000000000000000", "endTimeUnixNano": "1790000001500000000",
            "attributes": [_kv(k, v) for k, v in attrs.items()]}


def _kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _json_export(spans: list[dict[str, Any]], resource: dict[str, Any]) -> dict[str, Any]:
    return {"resourceSpans": [{"resource": {"attributes": [_kv(k, v) for k, v in resource.items()]},
                               "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}
