"""Meters over real ledger events: every aggregation, filters, group-by, windows in a timezone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from test_invoice_scenarios import ingest, make_template, open_copy, usage
from workmeter.app import Workmeter
from workmeter.core.errors import Conflict, InvalidInput, NotFound

D = Decimal


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory)


def job(n: int, time: str, **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"job-{n}", "source": "jobs", "type": "job.completed", "subject": "acme",
            "time": time, "data": data}


@pytest.fixture
def app(template: Path, tmp_path: Path) -> Iterator[Workmeter]:
    for wm in open_copy(template, tmp_path):
        team_a = {"attributes": {"team": "a"}}
        events = [usage("acme", "2026-10-01T10:00:00Z", input=100, output=10),
                  usage("acme", "2026-10-01T23:30:00Z", input=200),  # Oct 2, 01:30 in Paris
                  usage("bob", "2026-10-02T05:00:00Z", model="mystery", input=50),
                  usage("bob", "2026-10-03T05:00:00Z", provider="anthropic", model="claude-sonnet-4-5-20250929",
                        input=1000),
                  job(1, "2026-10-01T08:00:00Z", pages=3, region="eu", worker="w1"),
                  job(2, "2026-10-02T08:00:00Z", pages=5, region="us", worker="w2"),
                  job(3, "2026-10-03T08:00:00Z", pages="n/a", region="eu", worker="w3"),
                  job(4, "2026-10-04T08:00:00Z", pages=7, region="eu", worker="w1")]
        events[0]["data"].update(team_a)
        ingest(wm, events)
        yield wm


def values(rows: list[dict[str, Any]], *keys: str) -> dict[Any, Any]:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r["value"] for r in rows}


def test_builtin_token_meter_by_customer_and_day(app: Workmeter) -> None:
    rows = app.meters.query("input_tokens", ["customer", "day"])
    assert values(rows, "customer", "day") == {("acme", "2026-10-01"): 300, ("bob", "2026-10-02"): 50,
                                               ("bob", "2026-10-03"): 1000}
    paris = app.meters.query("input_tokens", ["customer", "day"], tz="Europe/Paris", customers=["acme"])
    assert values(paris, "customer", "day") == {("acme", "2026-10-01"): 100, ("acme", "2026-10-02"): 200}
    month = app.meters.query("total_tokens", ["month"])
    assert values(month, "month") == {"2026-10": 1360}


def test_calls_and_rated_cost_never_report_unpriced_as_zero(app: Workmeter) -> None:
    assert values(app.meters.query("llm_calls", ["customer"]), "customer") == {"acme": 2, "bob": 2}
    rows = {r["model"]: r for r in app.meters.query("llm_cost", ["model"])}
    assert rows["unit-1"]["value"] == D("0.0007")  # (300 × 2 + 10 × 10) / 1e6
    assert rows["mystery"]["value"] is None and rows["mystery"]["unpriced_events"] == 1
    assert rows["claude-sonnet-4-5-20250929"]["value"] == D("0.003")  # 1,000 × $3 / 1M


def test_half_open_time_range(app: Workmeter) -> None:
    start, end = datetime(2026, 10, 1, 10, tzinfo=UTC), datetime(2026, 10, 2, 5, tzinfo=UTC)
    assert app.meters.query("llm_calls", [], start, end)[0]["value"] == 2  # 10:00 in, 05:00 next day out


@pytest.mark.parametrize(("aggregation", "prop", "expected"), [
    ("sum", "$.pages", D(10)),           # 3 + 7 (region eu; "n/a" is not a number)
    ("count", None, D(3)),
    ("unique_count", "data.worker", D(2)),
    ("max", "$.pages", D(7)),
    ("latest", "$.pages", D(7)),
    ("avg", "$.pages", D(5)),           # (3 + 7) / 2
])
def test_aggregations_over_generic_event_data(app: Workmeter, aggregation: str, prop: str | None,
                                              expected: Decimal) -> None:
    spec: dict[str, Any] = {"key": f"pages_{aggregation}", "event_type": "job.completed",
                            "aggregation": aggregation, "filter": {"region": "eu"}}
    if prop:
        spec["property"] = prop
    app.meters.define(spec)  # defined after the events: a meter sees all history
    [row] = app.meters.query(spec["key"])
    assert row["value"] == expected


def test_filters_in_globs_attributes_and_group_by_data(app: Workmeter) -> None:
    app.meters.define({"key": "pages", "event_type": "job.completed", "aggregation": "sum", "property": "$.pages",
                       "filter": {"region": ["eu", "us"], "worker": "w*"}})
    assert values(app.meters.query("pages", ["data.region"]), "data.region") == {"eu": 10, "us": 5}
    app.meters.define({"key": "team_a_calls", "event_type": "llm.usage", "aggregation": "count",
                       "filter": {"attributes.team": "a"}})
    assert app.meters.query("team_a_calls")[0]["value"] == 1
    assert values(app.meters.query("llm_calls", ["team"]), "team") == {"a": 1, None: 3}


def test_model_filter_matches_the_catalog_name(app: Workmeter) -> None:
    app.meters.define({"key": "sonnet_calls", "event_type": "llm.usage", "aggregation": "count",
                       "filter": {"model": "claude-sonnet-4-5"}})
    assert app.meters.query("sonnet_calls")[0]["value"] == 1
    app.meters.define({"key": "any_sonnet", "event_type": "llm.usage", "aggregation": "sum",
                       "property": "input", "filter": {"model": "*SONNET*"}})
    assert app.meters.query("any_sonnet")[0]["value"] == 1000


def test_meter_mistakes_are_clear_errors(app: Workmeter) -> None:
    with pytest.raises(NotFound, match="no meter 'nope'"):
        app.meters.query("nope")
    with pytest.raises(InvalidInput, match="--by"):
        app.meters.query("llm_calls", ["bad key!"])
    with pytest.raises(InvalidInput, match="aggregation"):
        app.meters.define({"key": "x", "event_type": "e", "aggregation": "median", "property": "$.a"})
    with pytest.raises(InvalidInput, match="property"):
        app.meters.define({"key": "x", "event_type": "e", "aggregation": "sum", "property": "output"})
    with pytest.raises(Conflict, match="built in"):
        app.meters.define({"key": "llm_calls", "event_type": "llm.usage", "aggregation": "count"})
    listed = {m["key"]: m["origin"] for m in app.meters.all()}
    assert listed["input_tokens"] == "builtin"


def test_meters_billing_derives_from_model_rows_equal_the_sql_meters(app: Workmeter) -> None:
    from workmeter.billing.collect import SegmentRow, collect
    from workmeter.billing.derived import derivable
    from workmeter.meters.model import BUILTIN_METERS, parse_meter

    custom = [parse_meter({"key": "sonnet", "event_type": "llm.usage", "aggregation": "count",
                           "filter": {"model": "claude-sonnet-4-5"}}),
              parse_meter({"key": "acme_in", "event_type": "llm.usage", "aggregation": "sum", "property": "input",
                           "filter": {"provider": "acme-*", "model": ["unit-1", "mystery"]}})]
    meters = (*BUILTIN_METERS.values(), *custom)
    assert all(derivable(m) for m in meters)
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    rows = [SegmentRow(c, "2026-10", 0, start, end, meters) for c in ("acme", "bob")]
    usage = collect(app.db.read(), rows, [], app._rated_view(), app.meters.source_for)
    for m in meters:
        by_sql = {r["customer"]: r["value"] for r in app.meters.query(m, ["customer"], start, end)}
        for c in ("acme", "bob"):
            expected = by_sql.get(c, D(0) if m.key != "llm_cost" else None)
            assert usage[(c, "2026-10", 0)].meters[m.key] == expected, (m.key, c)
