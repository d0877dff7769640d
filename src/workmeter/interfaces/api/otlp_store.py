"""What the OTLP receiver keeps between export requests: task spans and held model calls.

An OpenTelemetry SDK exports a span when it ends, so the model calls of a long
agent run usually reach the receiver in an earlier export request than the
agent span above them (which ends last). Two kinds of rows carry context
across requests (table ``otlp_spans``):

* ``task`` — every agent or root span received: a later span of the same
  trace walks up through it (customer, labels, task), as if it were in its
  own request;
* ``held`` — a model call with no customer known yet (not on the call, its
  resource, its API key or the agent spans seen so far) whose chain of
  parents does not reach a root span yet: instead of being refused, it is
  kept (durably, before the request is answered) and turned into its usage
  event as soon as a request brings the agent span that names its customer
  (or completes the chain), or once it has waited ``serve --otlp-hold``
  seconds (then, still without a customer, it becomes a rejected event in
  the ledger, with its raw payload). A call whose customer is known is never
  held.

Task rows are forgotten after a day. A held row is deleted only after its
event is committed; a crash in between sends it again, and the ledger's
dedup (the event id is the span id) keeps it counted once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from workmeter.interfaces.api.otlp_tree import Node
from workmeter.store.duckdb import Database, register_ddl

TASK, HELD = "task", "held"
DDL = ("""CREATE TABLE IF NOT EXISTS otlp_spans (
    "trace_id" BLOB, "span_id" BLOB, "kind" VARCHAR, "span" BLOB, "resource" VARCHAR,
    "bound_customer" VARCHAR, "received_at" TIMESTAMPTZ)""",)
register_ddl(*DDL)


def _node(span: bytes, resource: str, bound: str | None) -> Node:
    from workmeter.interfaces.api.otlp import attributes

    parsed = Span()
    parsed.ParseFromString(span)
    return Node(parsed, attributes(parsed.attributes), orjson.loads(resource), bound)


def load(db: Database, trace_ids: Iterable[bytes]) -> tuple[list[Node], list[Node]]:
    """(task spans, held calls) kept for these traces."""
    traces = sorted(set(trace_ids))
    if not traces:
        return [], []
    rows = db.read().execute("SELECT kind, span, resource, bound_customer FROM otlp_spans "
                             "WHERE list_contains(?, trace_id) ORDER BY received_at", [traces]).fetchall()
    tasks = [_node(s, r, b) for k, s, r, b in rows if k == TASK]
    held = [_node(s, r, b) for k, s, r, b in rows if k == HELD]
    return tasks, held


def due(db: Database, received_before: datetime) -> list[Node]:
    """Held calls that have waited long enough (flushed with whatever context is known)."""
    rows = db.read().execute("SELECT span, resource, bound_customer FROM otlp_spans WHERE kind = ? "
                             "AND received_at < ? ORDER BY received_at", [HELD, received_before]).fetchall()
    return [_node(s, r, b) for s, r, b in rows]


def keep(db: Database, tasks: Iterable[Node], held: Iterable[Node]) -> None:
    """Store task spans and held calls (one transaction; a span already kept is not kept twice)."""
    rows: list[list[Any]] = [[n.span.trace_id, n.span.span_id, kind, n.span.SerializeToString(),
                              orjson.dumps(n.resource).decode(), n.bound_customer]
                             for kind, nodes in ((TASK, tasks), (HELD, held)) for n in nodes]
    if not rows:
        return
    with db.write() as con:
        con.execute("CREATE OR REPLACE TEMP TABLE _wm_otlp (trace_id BLOB, span_id BLOB, kind VARCHAR, "
                    "span BLOB, resource VARCHAR, bound_customer VARCHAR)")
        con.executemany("INSERT INTO _wm_otlp VALUES (?, ?, ?, ?, ?, ?)", rows)
        con.execute("INSERT INTO otlp_spans SELECT DISTINCT ON (trace_id, span_id, kind) n.*, now() FROM _wm_otlp n "
                    "WHERE NOT EXISTS (SELECT 1 FROM otlp_spans o WHERE o.trace_id = n.trace_id "
                    "AND o.span_id = n.span_id AND o.kind = n.kind)")
        con.execute("DROP TABLE _wm_otlp")


def release(db: Database, nodes: Iterable[Node]) -> None:
    """Forget held calls whose events are committed."""
    keys = [[n.span.trace_id, n.span.span_id] for n in nodes]
    if not keys:
        return
    with db.write() as con:
        con.executemany("DELETE FROM otlp_spans WHERE kind = 'held' AND trace_id = ? AND span_id = ?", keys)


def prune(db: Database, received_before: datetime) -> None:
    """Forget task spans received before ``received_before`` (held calls stay until released)."""
    with db.write() as con:
        con.execute("DELETE FROM otlp_spans WHERE kind = ? AND received_at < ?", [TASK, received_before])
