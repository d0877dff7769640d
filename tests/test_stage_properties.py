"""Property: the ledger's staging pass says exactly what the Python rules say, on both input shapes.

Each hypothesis example is a batch of events (valid, damaged envelopes, damaged
data, every usage format with valid and damaged usage objects). The batch is
staged as JSON text (the Python API) and as columns (Parquet / Arrow) in a
real DuckDB; every event's reason must be the one the rules below give, and
every accepted usage event's buckets the ones :func:`workmeter.normalize.normalize`
gives. Then the same batch goes through a real ledger twice: the second pass
(which skips parsing for stored duplicates) must classify every event the way
the first pass staged it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_normalize_properties import CASE, python_result
from workmeter.app import Workmeter
from workmeter.ledger.stage import ENVELOPE_FROM_COLUMNS, ENVELOPE_FROM_TEXT, SERVICE_TIERS, staged_sql
from workmeter.normalize import ALL_COUNTS, implied_format
from workmeter.store.schema import USAGE_KEYS_DDL

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ENVELOPE = ("specversion", "id", "source", "type", "subject", "time")
#: time texts with their validity (RFC 3339 with an offset).
TIMES = {"2026-10-01T12:00:00Z": True, "2026-10-01T12:00:00.250+02:00": True, "2026-10-01 12:00:00+00:00": True,
         "2026-10-01T12:00:00": False, "2026-10-01t12:00:00z": True, "yesterday": False, "2026-13-01T12:00:00Z": False}
NOT_STRING = st.sampled_from([None, 5, True, ["a"], {"a": "b"}])
ATTRIBUTES = st.one_of(st.dictionaries(st.sampled_from(["team", "project", "user", "x\"y", "é"]),
                                       st.text(max_size=4), max_size=3),
                       st.just({"team": 1}), st.just({"team": {"a": "b"}}), st.just({"team": None}),
                       st.just([]), st.just("team"), st.none())


AUTO = "<auto>"
_ids = itertools.count()


@st.composite
def event(draw: st.DrawFn) -> Any:
    """One event: a usage case in an envelope, then maybe one thing damaged."""
    fmt, usage = draw(CASE)
    providers = st.sampled_from(["anthropic", "openai", "google", "x\\y", "OpenAI", "Anthropic"])
    data: dict[str, Any] = {"provider": draw(providers),
                            "model": "m-1", "usage": usage}
    if fmt is not None:
        data["usage_format"] = fmt
    for key, values in (("service_tier", st.sampled_from([*SERVICE_TIERS, "turbo", None, 5])),
                        ("task_id", st.sampled_from(["T-1", "", None, 7, "t\"q"])), ("attributes", ATTRIBUTES)):
        if draw(st.booleans()):
            data[key] = draw(values)
    ev: dict[str, Any] = {"specversion": "1.0", "id": AUTO, "source": "s", "subject": "c",
                          "type": draw(st.sampled_from(["llm.usage", "llm.usage", "task.started"])),
                          "time": draw(st.sampled_from(sorted(TIMES))), "data": data}
    how = draw(st.sampled_from(["none", "none", "envelope", "data", "field"]))
    if how == "envelope":
        key = draw(st.sampled_from(ENVELOPE))
        ev[key] = draw(st.one_of(NOT_STRING, st.sampled_from(["", "0.3"])))
    elif how == "data":
        ev["data"] = draw(st.sampled_from([None, [], "text", 3]))
    elif how == "field":
        data[draw(st.sampled_from(["provider", "model", "usage_format"]))] = draw(NOT_STRING)
    return ev


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text(value: Any) -> str | None:
    """What ``->> '$'`` gives: a string as is, null as NULL, anything else its compact JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def envelope_reason(ev: dict[str, Any]) -> str | None:
    sv = _string(ev.get("specversion"))
    if sv is None:
        return 'specversion: required, must be "1.0"'
    if sv != "1.0":
        return f'specversion: must be "1.0", got "{sv}"'
    for key, why in (("id", "id: required non-empty string"), ("source", "source: required non-empty string"),
                     ("type", "type: required non-empty string"),
                     ("subject", "subject: required non-empty string (the customer id)")):
        if not _string(ev.get(key)):
            return why
    t = _string(ev.get("time"))
    if t is None:
        return "time: required RFC 3339 timestamp"
    if not TIMES.get(t, False):
        return f'time: "{t}" is not RFC 3339 with an offset (e.g. 2026-10-01T12:00:00Z)'
    return None


def expected(ev: dict[str, Any]) -> tuple[str | None, dict[str, int] | None]:
    """(reason, buckets) by the ledger's rules: the envelope, then the data of a usage event."""
    why = envelope_reason(ev)
    data, usage_event = ev.get("data"), ev.get("type") == "llm.usage"
    if why or not isinstance(data, dict):
        return why or ("data: llm.usage needs a JSON object" if usage_event else None), None
    tier = _text(data.get("service_tier")) or "standard"
    attrs = {} if data.get("attributes") is None else data["attributes"]  # null: absent
    checks = [
        (usage_event and not _string(data.get("provider")), "data.provider: required string"),
        (usage_event and not _string(data.get("model")), "data.model: required string"),
        (usage_event and tier not in SERVICE_TIERS,
         f'data.service_tier: "{tier}" is not one of {", ".join(SERVICE_TIERS)}'),
        (data.get("task_id") is not None and not isinstance(data["task_id"], str), "data.task_id: must be a string"),
        (usage_event and not (isinstance(attrs, dict) and all(v is None or isinstance(v, str) for v in attrs.values())),
         "data.attributes: must be an object of string values"),
    ]
    for failed, reason in checks:
        if failed:
            return reason, None
    if not usage_event:
        return None, None
    fmt = _text(data.get("usage_format"))
    if fmt is None:
        fmt = implied_format(_text(data.get("provider")))
    buckets, reason = python_result(fmt, data["usage"])
    return reason, buckets


def staged(con: duckdb.DuckDBPyConnection, envelope: str, table: pa.Table) -> list[dict[str, Any]]:
    con.register("_batch", table)
    cur = con.execute(f"SELECT * FROM ({staged_sql(envelope.replace('{input}', '_batch'))}) ORDER BY pos")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    con.unregister("_batch")
    return rows


def as_columns(events: list[dict[str, Any]]) -> pa.Table:
    def col(key: str) -> pa.Array:
        return pa.array([e.get(key) if isinstance(e.get(key), str) else None for e in events], pa.string())

    data = pa.array([None if "data" not in e else json.dumps(e["data"]) for e in events], pa.string())
    return pa.table({**{k: col(k) for k in ENVELOPE}, "data": data,
                     "pos": pa.array(range(len(events)), pa.int64())})


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(USAGE_KEYS_DDL)  # staging looks up each usage event's rate key
    return con


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workmeter]:
    app = Workmeter.open(Path(tmp_path_factory.mktemp("stage")) / "stage.duckdb")
    yield app
    app.close()


@SETTINGS
@given(st.lists(event(), min_size=1, max_size=30))
def test_staging_equals_the_rules(con: duckdb.DuckDBPyConnection, ledger: Workmeter,
                                  events: list[dict[str, Any]]) -> None:
    for ev in events:
        if ev["id"] == AUTO:
            ev["id"] = f"e{next(_ids)}"
    raw = [json.dumps(e) for e in events] + [" {not json", " [1, 2]", '"text"']
    texts = pa.table({"pos": pa.array(range(len(raw)), pa.int64()), "raw": pa.array(raw, pa.string())})
    unreadable = [("not valid JSON", None), *[("an event must be a JSON object", None)] * 2]
    for envelope, table, want in ((ENVELOPE_FROM_TEXT, texts, [*map(expected, events), *unreadable]),
                                  (ENVELOPE_FROM_COLUMNS, as_columns(events), [*map(expected, events)])):
        for text, row, (why, buckets) in zip(raw[:len(want)], staged(con, envelope, table), want, strict=True):
            assert row["reason"] == why, text
            if buckets is not None:
                assert {c: row[c] for c in ALL_COUNTS} == buckets, text
    first = ledger.ledger.ingest_arrow(as_columns(events), with_results=True)
    again = ledger.ledger.ingest_arrow(as_columns(events), with_results=True)
    assert [r.status == "rejected" for r in first.results] == [expected(e)[0] is not None for e in events]
    assert [r.status for r in again.results] == [
        r.status if r.status in ("rejected", "conflict") else "duplicate" for r in first.results]
    assert [r.reason for r in again.results] == [r.reason for r in first.results]


def test_a_resent_event_skips_parsing_only_when_it_is_exactly_a_stored_valid_one(ledger: Workmeter) -> None:
    base = {"specversion": "1.0", "source": "resend", "type": "llm.usage", "subject": "c",
            "time": "2026-10-01T12:00:00Z",
            "data": {"provider": "anthropic", "model": "m", "usage": {"input_tokens": 5, "output_tokens": 1}}}
    stored = [dict(base, id=f"r{i}") for i in range(4)]
    assert ledger.ledger.ingest_arrow(as_columns(stored)).accepted == 4
    changed = dict(stored[1], data={**base["data"], "usage": {"input_tokens": 6}})
    batch = [stored[0], changed, dict(stored[2], specversion="2.0"), dict(stored[3], time="2026-10-01T12:00:00"),
             dict(base, id="n1"), dict(base, id="n1"), dict(base, id="n1", subject="d")]
    report = ledger.ledger.ingest_arrow(as_columns(batch), with_results=True)
    assert [r.status for r in report.results] == ["duplicate", "conflict", "rejected", "rejected",
                                                  "accepted", "duplicate", "conflict"]
    assert report.summary() == {"accepted": 1, "duplicates": 2, "conflicts": 2, "rejected": 2}
    assert "specversion" in (report.results[2].reason or "") and "time" in (report.results[3].reason or "")


def test_a_few_stored_keys_in_a_large_batch_are_classified_in_the_batch(ledger: Workmeter) -> None:
    base = {"specversion": "1.0", "source": "few", "type": "task.started", "subject": "c",
            "time": "2026-10-01T12:00:00Z", "data": {"task_id": "t"}}
    ledger.ledger.ingest_arrow(as_columns([dict(base, id="old"), dict(base, id="older")]))
    batch = [dict(base, id="old"), dict(base, id="older", subject="x")] + [dict(base, id=f"f{i}") for i in range(30)]
    report = ledger.ledger.ingest_arrow(as_columns(batch), with_results=True)
    assert [r.status for r in report.results[:3]] == ["duplicate", "conflict", "accepted"]
    assert report.summary() == {"accepted": 30, "duplicates": 1, "conflicts": 1, "rejected": 0}
