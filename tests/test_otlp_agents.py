"""Agent spans give the model calls beneath them their customer, labels and task (OTLP receiver)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanProcessor

from api_support import ThreadServer
from test_otlp import CHAT_ATTRS, _json_export, _span
from workmeter.app import Workmeter
from workmeter.interfaces.api.otlp import SpanMapper

TRACE = "ab" * 16


@pytest.fixture
def server(wm: Workmeter) -> Iterator[ThreadServer]:
    with ThreadServer(wm) as srv:
        yield srv


def _tracer(server: ThreadServer, batch: bool) -> tuple[TracerProvider, Any]:
    exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", timeout=10,
                                headers={"Authorization": f"Bearer {server.wm.keys.create('ingest')[1]}"})
    processor: SpanProcessor = (BatchSpanProcessor(exporter, schedule_delay_millis=60_000) if batch
                                else SimpleSpanProcessor(exporter))
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(processor)
    return provider, provider.get_tracer("test")


def _usage_rows(wm: Workmeter) -> dict[str, dict[str, Any]]:
    cur = wm.db.read().execute("SELECT id, subject, task_id, team, project, workflow, \"user\", data FROM events "
                               "WHERE type = 'llm.usage'")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return {r["id"]: {**r, "attributes": orjson.loads(r.pop("data"))["attributes"]} for r in rows}


def _hex(span: Any, trace: bool = False) -> str:
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x") if trace else format(ctx.span_id, "016x")


ROOT_AGENT = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "triage", "gen_ai.agent.id": "asst_1",
              "workmeter.customer": "cus_a", "workmeter.team": "support", "workmeter.project": "helpdesk",
              "enduser.id": "u_1"}
NESTED_AGENT = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "lookup", "workmeter.team": "research"}
CALL = {k: v for k, v in CHAT_ATTRS.items() if k != "openai.response.service_tier"}


def test_calls_inherit_from_their_agents_and_attach_to_the_nearest_task(server: ThreadServer) -> None:
    provider, tracer = _tracer(server, batch=True)   # one export request for the whole run
    with tracer.start_as_current_span("invoke_agent triage", attributes=ROOT_AGENT) as root:
        with tracer.start_as_current_span("chat gpt-4o", attributes=CALL) as outer_call:
            pass
        with tracer.start_as_current_span("invoke_agent lookup", attributes=NESTED_AGENT) as sub, \
                tracer.start_as_current_span("execute_tool search", attributes={
                    "gen_ai.operation.name": "execute_tool"}), \
                tracer.start_as_current_span("chat gpt-4o", attributes=CALL) as inner_call:
            pass
    assert provider.force_flush(10_000)
    provider.shutdown()
    trace, sub_task = _hex(root, trace=True), f"{_hex(root, trace=True)}/{_hex(sub)}"
    rows = _usage_rows(server.wm)
    outer, inner = rows[_hex(outer_call)], rows[_hex(inner_call)]
    assert (outer["subject"], outer["task_id"], outer["team"], outer["project"], outer["workflow"], outer["user"]) \
        == ("cus_a", trace, "support", "helpdesk", "triage", "u_1")
    assert outer["attributes"]["agent_id"] == "asst_1"
    # Under the nested agent: its task, its name and team; the rest still from the outer agent.
    assert (inner["subject"], inner["task_id"], inner["team"], inner["project"], inner["workflow"], inner["user"]) \
        == ("cus_a", sub_task, "research", "helpdesk", "lookup", "u_1")

    admin = server.wm.keys.create("admin")[1]
    with server.client(admin) as c:
        tasks = {t["task_id"]: t for t in c.get("/api/v1/tasks", params={"customer": "cus_a"}).json()}
    assert (tasks[trace]["calls"], tasks[trace]["calls_total"]) == (1, 2)
    assert (tasks[sub_task]["parent_task_id"], tasks[sub_task]["calls"], tasks[sub_task]["workflow"]) == \
        (trace, 1, "lookup")
    with server.client(admin) as c:
        by_team = c.get("/api/v1/usage", params={"by": "customer,team,project"}).json()
    assert sorted((r["customer"], r["team"], r["project"], r["events"]) for r in by_team) == \
        [("cus_a", "research", "helpdesk", 1), ("cus_a", "support", "helpdesk", 1)]


def test_order_of_spans_in_a_request_does_not_matter(server: ThreadServer) -> None:
    key = server.wm.keys.create("ingest")[1]
    root = {**ROOT_AGENT, "workmeter.task_id": "ticket-42"}
    spans = [
        _span("c2" * 8, CALL, parent="77" * 8),                     # a call under a plain span, under the nested agent
        _span("c1" * 8, {**CALL, "workmeter.team": "billing"}, parent="a0" * 8),   # its own team wins
        _span("77" * 8, {"http.method": "GET"}, parent="a1" * 8),
        _span("a1" * 8, NESTED_AGENT, parent="a0" * 8),
        {**_span("a0" * 8, root), "parentSpanId": ""},              # the root agent, last
    ]
    with server.client(key) as c:
        for order in (spans, spans[::-1]):
            r = c.post("/v1/traces", content=orjson.dumps(_json_export(order, {"service.name": "bot"})),
                       headers={"content-type": "application/json"})
            assert r.status_code == 200 and "partialSuccess" not in r.json()
    rows = _usage_rows(server.wm)
    assert (rows["c1" * 8]["task_id"], rows["c1" * 8]["team"], rows["c1" * 8]["subject"]) == \
        ("ticket-42", "billing", "cus_a")
    assert (rows["c2" * 8]["task_id"], rows["c2" * 8]["team"], rows["c2" * 8]["workflow"]) == \
        (f"{TRACE}/{'a1' * 8}", "research", "lookup")
    assert "task_id" not in rows["c1" * 8]["attributes"]
    events = server.wm.db.read().execute(
        "SELECT id, task_id, data->>'$.parent_task_id' FROM events WHERE type = 'task.started' ORDER BY id").fetchall()
    assert events == [(f"{'a0' * 8}.started", "ticket-42", None),
                      (f"{'a1' * 8}.started", f"{TRACE}/{'a1' * 8}", "ticket-42")]
    assert server.wm.ledger.counts()["events"] == 6   # the second export: duplicates only


def test_across_requests_a_call_keeps_only_what_its_own_request_holds(server: ThreadServer) -> None:
    """A call exported before its agent (one request per span) gets the trace as its task and its
    own span's and resource's attributes: the documented limit of a receiver without state."""
    provider, tracer = _tracer(server, batch=False)
    with tracer.start_as_current_span("invoke_agent triage", attributes=ROOT_AGENT) as root, \
            tracer.start_as_current_span("invoke_agent lookup", attributes=NESTED_AGENT), \
            tracer.start_as_current_span("chat gpt-4o", attributes={**CALL, "workmeter.customer": "cus_a"}) as call:
        pass
    provider.shutdown()
    row = _usage_rows(server.wm)[_hex(call)]
    assert (row["subject"], row["task_id"], row["team"]) == ("cus_a", _hex(root, trace=True), None)


def _request(spans: list[tuple[str, str, dict[str, Any]]]) -> ExportTraceServiceRequest:
    """(span id, parent id, attributes) → one export request of one trace."""
    request = ExportTraceServiceRequest()
    out = request.resource_spans.add().scope_spans.add().spans
    for span_id, parent, attrs in spans:
        span = out.add(trace_id=bytes.fromhex(TRACE), span_id=bytes.fromhex(span_id), name="s",
                       parent_span_id=bytes.fromhex(parent), end_time_unix_nano=1_790_000_000_000_000_000)
        for k, v in attrs.items():
            kv = span.attributes.add(key=k)
            if isinstance(v, int):
                kv.value.int_value = v
            else:
                kv.value.string_value = v
    return request


def test_deep_trees_and_parent_cycles_resolve_without_recursion() -> None:
    deep = [(f"{n + 1:016x}", f"{n:016x}" if n else "", ROOT_AGENT if n == 0 else {}) for n in range(5000)]
    deep.append(("ff" * 8, f"{5000:016x}", CALL))
    mapped = SpanMapper(("workmeter.customer",)).map(_request(deep[::-1]))
    (usage,) = [e for e in mapped.events if e["type"] == "llm.usage"]
    assert (usage["subject"], usage["data"]["task_id"], usage["data"]["attributes"]["team"]) == \
        ("cus_a", TRACE, "support")
    cycle = [("01" * 8, "02" * 8, {**NESTED_AGENT, "workmeter.customer": "cus_c"}), ("02" * 8, "01" * 8, {}),
             ("03" * 8, "01" * 8, CALL)]   # 01 and 02 name each other as parent
    mapped = SpanMapper(("workmeter.customer",)).map(_request(cycle))
    (usage,) = [e for e in mapped.events if e["type"] == "llm.usage"]
    assert (usage["subject"], usage["data"]["task_id"]) == ("cus_c", f"{TRACE}/{'01' * 8}")


def test_an_agent_span_naming_its_parents_task_id_is_not_its_own_parent() -> None:
    spans = [("a0" * 8, "", {**ROOT_AGENT, "workmeter.task_id": "ticket-42"}),
             ("a1" * 8, "a0" * 8, {**NESTED_AGENT, "workmeter.task_id": "ticket-42"})]
    mapped = SpanMapper(("workmeter.customer",)).map(_request(spans))
    started = {e["id"]: e["data"] for e in mapped.events if e["type"] == "task.started"}
    assert [(d["task_id"], d.get("parent_task_id")) for d in started.values()] == [("ticket-42", None)] * 2


def _held(wm: Workmeter) -> int:
    return wm.db.read().execute("SELECT count(*) FROM otlp_spans WHERE kind = 'held'").fetchall()[0][0]


def test_a_call_exported_before_its_agent_waits_for_the_agents_customer(server: ThreadServer) -> None:
    # A long agent run: the SDK exports the call when it ends, the agent span only when the run ends.
    provider, tracer = _tracer(server, batch=True)
    with tracer.start_as_current_span("invoke_agent triage", attributes=ROOT_AGENT) as root:
        with tracer.start_as_current_span("chat gpt-4o", attributes=CALL) as call:
            pass
        assert provider.force_flush(10_000)   # export request 1: the call alone, no customer on it
        assert _usage_rows(server.wm) == {} and _held(server.wm) == 1
    assert provider.force_flush(10_000)       # export request 2: the agent span
    provider.shutdown()
    row = _usage_rows(server.wm)[_hex(call)]
    assert (row["subject"], row["task_id"], row["team"], row["workflow"], row["user"]) == \
        ("cus_a", _hex(root, trace=True), "support", "triage", "u_1")
    assert _held(server.wm) == 0
    assert server.wm.ledger.rejects() == []


def test_a_call_whose_agent_never_comes_is_a_dead_letter_after_the_hold(wm: Workmeter) -> None:
    from test_otlp import _json_export, _span

    lone = _json_export([_span("ad" * 8, CALL)], {"service.name": "bot"})   # its parent is never sent
    with ThreadServer(wm, otlp_hold_seconds=0.3) as srv, srv.client(srv.wm.keys.create("ingest")[1]) as c:
        r = c.post("/v1/traces", content=orjson.dumps(lone), headers={"content-type": "application/json"})
        assert r.status_code == 200 and "partialSuccess" not in r.json()   # accepted: held, not refused
        deadline = time.monotonic() + 20
        while _held(wm) and time.monotonic() < deadline:
            time.sleep(0.1)
    rejects = wm.ledger.rejects()
    assert _held(wm) == 0 and [(r["id"], r["origin"]) for r in rejects] == [("ad" * 8, "otlp")]
    assert "subject" in rejects[0]["reason"] and _usage_rows(wm) == {}


def test_without_a_hold_each_request_stands_alone(wm: Workmeter) -> None:
    from test_otlp import _json_export, _span

    lone = _json_export([_span("ae" * 8, CALL)], {"service.name": "bot"})
    with ThreadServer(wm, otlp_hold_seconds=0) as srv, srv.client(srv.wm.keys.create("ingest")[1]) as c:
        r = c.post("/v1/traces", content=orjson.dumps(lone), headers={"content-type": "application/json"})
    assert "no customer" in r.json()["partialSuccess"]["errorMessage"] and _usage_rows(wm) == {}


def test_a_call_under_a_nested_agent_waits_through_three_requests(server: ThreadServer) -> None:
    provider, tracer = _tracer(server, batch=True)
    with tracer.start_as_current_span("invoke_agent triage", attributes=ROOT_AGENT) as root:
        with tracer.start_as_current_span("invoke_agent lookup", attributes=NESTED_AGENT) as sub:
            with tracer.start_as_current_span("chat gpt-4o", attributes=CALL) as call:
                pass
            assert provider.force_flush(10_000)   # request 1: the call
        assert provider.force_flush(10_000)       # request 2: the nested agent (no customer on it)
        assert _held(server.wm) == 1 and _usage_rows(server.wm) == {}
    assert provider.force_flush(10_000)           # request 3: the root agent, with the customer
    provider.shutdown()
    row = _usage_rows(server.wm)[_hex(call)]
    assert (row["subject"], row["task_id"], row["team"], row["workflow"], row["project"]) == \
        ("cus_a", f"{_hex(root, trace=True)}/{_hex(sub)}", "research", "lookup", "helpdesk")
    assert _held(server.wm) == 0
