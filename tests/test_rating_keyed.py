"""Cost per group by integer cell (``rating.keyed``) equals the view and the string-join path, on events
the ledger ingested: a dated price change, a long-context tier, off-peak hours, a bucket without a
price, an unknown model, a batch tier and an amended event. The price cell the ledger stores at
ingest is the one the layout computes, and stays so when a rating run changes the cards."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import usage_event
from workmeter.app import Workmeter
from workmeter.rating.aggregate import cost_by, snapshot
from workmeter.rating.keyed import current_layout, keyed_rows
from workmeter.store.schema import cell_sql

OPENAI = {"prompt_tokens": 1000, "completion_tokens": 200}
EVENTS: list[dict[str, Any]] = [
    # o3 list prices fell on 2025-06-10: the same usage costs less from then on
    usage_event("o3-before", provider="openai", model="o3", usage=OPENAI, time="2025-06-09T23:59:59.999999Z"),
    usage_event("o3-after", provider="openai", model="o3", usage=OPENAI, time="2025-06-10T00:00:00Z"),
    # claude-sonnet-4-5: whole requests above 200k input tokens are priced higher
    usage_event("sonnet-long", usage={"input_tokens": 150_000, "cache_read_input_tokens": 60_000,
                                      "output_tokens": 10}, time="2025-10-01T08:00:00Z"),
    usage_event("sonnet-short", usage={"input_tokens": 150_000, "output_tokens": 10}, time="2025-10-01T08:00:00Z"),
    # deepseek-chat: off-peak 16:30–00:30 UTC
    usage_event("ds-peak", provider="deepseek", model="deepseek-chat", usage=OPENAI, usage_format="openai-chat", time="2025-09-01T10:00:00Z"),
    usage_event("ds-off", provider="deepseek", model="deepseek-chat", usage=OPENAI, usage_format="openai-chat", time="2025-09-01T16:30:00Z",
                subject="cus_2"),
    usage_event("ds-edge", provider="deepseek", model="deepseek-chat", usage=OPENAI, usage_format="openai-chat", time="2025-09-02T00:29:59Z",
                subject="cus_2"),
    # a web search on a model without a web-search price: unpriced, never $0
    usage_event("ds-search", provider="deepseek", model="deepseek-chat", time="2025-09-01T10:00:00Z",
                usage={"input_tokens": 10, "output_tokens": 1, "server_tool_use": {"web_search_requests": 1}},
                usage_format="anthropic"),
    usage_event("mystery", provider="openai", model="gpt-mystery-9", usage=OPENAI, time="2025-09-01T10:00:00Z"),
    usage_event("haiku-batch", model="claude-haiku-4-5", service_tier="batch", time="2025-11-01T00:00:00Z",
                subject="cus_2"),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Workmeter:
    wm = Workmeter.open(tmp_path_factory.mktemp("keyed") / "k.duckdb")
    report = wm.ledger.ingest(EVENTS)
    assert report.accepted == len(EVENTS), [r["reason"] for r in wm.ledger.rejects()]
    wm.ledger.amend(usage_event("mystery", provider="openai", model="gpt-4o", usage=OPENAI,
                                time="2025-09-01T10:00:00Z"), "the model was mistyped")
    wm.rater.refresh()
    return wm


def _view(wm: Workmeter, groups: str) -> list[tuple[Any, ...]]:
    return wm.db.read().execute(
        f"SELECT {groups}, count(*), sum(cost), count(*) FILTER (WHERE NOT priced) FROM rated_events "
        "GROUP BY ALL ORDER BY ALL").fetchall()


def _stale_cells(wm: Workmeter) -> int:
    """Usage rows whose stored cell is not the one the current cards' layout gives them."""
    cur = wm.db.read()
    layout = current_layout(cur)
    assert layout is not None
    row = cur.execute(f"SELECT count(*) FROM live_events WHERE type = 'llm.usage' "
                      f"AND rate_cell IS DISTINCT FROM {cell_sql(layout.branches())}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("stored", [True, False])
@pytest.mark.parametrize("groups", [["subject"], ["id"], ["model", "date_trunc('month', time)"]])
def test_integer_cells_price_every_rule_like_the_view(app: Workmeter, groups: list[str], stored: bool) -> None:
    cur = app.db.read()
    with snapshot(cur):
        rows = keyed_rows(cur, groups, "TRUE", [], "rate_cards_current", stored_cells=stored)
    assert rows is not None  # the integer path applies to ledger-written events
    view = _view(app, ", ".join(groups))
    assert rows == view
    assert [tuple(r.values()) for r in cost_by(app.db, groups, by_key=False)] == view


def test_the_rules_change_the_price_as_published(app: Workmeter) -> None:
    cost = {r["g0"]: r["cost"] for r in cost_by(app.db, ["id"])}
    assert cost["o3-after"] < cost["o3-before"]
    assert cost["sonnet-long"] > cost["sonnet-short"]
    assert cost["ds-off"] < cost["ds-peak"] and cost["ds-edge"] == cost["ds-off"]
    assert cost["ds-search"] is None and cost["mystery"] is not None  # amended to a priced model
    unpriced = {r["g0"]: r["unpriced_events"] for r in cost_by(app.db, ["id"])}
    assert unpriced["ds-search"] == 1 and sum(unpriced.values()) == 1


def test_a_filter_and_a_new_key_not_rated_yet(app: Workmeter) -> None:
    app.ledger.ingest([usage_event("late", provider="openai", model="gpt-late-1", usage=OPENAI,
                                   time="2025-09-03T10:00:00Z")])
    got = cost_by(app.db, ["subject"], "time >= ?", ["2025-09-01"])  # not refreshed: "not rated yet"
    view = app.db.read().execute(
        "SELECT subject, count(*), sum(cost), count(*) FILTER (WHERE NOT priced) FROM rated_events "
        "WHERE time >= '2025-09-01' GROUP BY ALL ORDER BY ALL").fetchall()
    assert [tuple(r.values()) for r in got] == view
    assert sum(r["unpriced_events"] for r in got) == 2


def test_the_last_event_exactly_on_a_price_change(tmp_path: Any) -> None:
    wm = Workmeter.open(tmp_path / "edge.duckdb")
    wm.ledger.ingest(EVENTS[:2])  # the newest event is the first instant of the new o3 price
    wm.rater.refresh()
    got = {r["g0"]: r["cost"] for r in cost_by(wm.db, ["id"])}
    assert got == {r[0]: r[2] for r in _view(wm, "id")} and got["o3-after"] < got["o3-before"]
    wm.close()


@pytest.mark.parametrize("by", ["customer,model,month", "day", ""])
def test_the_usage_report_equals_the_view_summed(app: Workmeter, by: str) -> None:
    from workmeter.ledger.usage import usage_report
    from workmeter.rating.report import rated_usage_report

    app.rater.refresh()
    got = rated_usage_report(app.db, by, subjects=["cus_1", "cus_2"])
    assert got == usage_report(app.db, by, subjects=["cus_1", "cus_2"], source="rated_events")
    assert app.usage(by) == usage_report(app.db, by, source="rated_events")
    assert sum(r["unpriced_events"] for r in got) >= 1 and all(r["events"] for r in got)
    # the string-join path carries the same extra sums
    from workmeter.ledger.usage import BUCKET_SUMS, GROUP_KEYS, parse_by

    groups = [GROUP_KEYS[k] for k in parse_by(by)]
    assert cost_by(app.db, groups, extras=BUCKET_SUMS, by_key=False) == cost_by(app.db, groups, extras=BUCKET_SUMS)


def test_every_stored_usage_event_carries_the_key_of_its_model(tmp_path: Any) -> None:
    wm = Workmeter.open(tmp_path / "keys.duckdb")
    wm.ledger.ingest(EVENTS[:4])
    wm.ledger.ingest([*EVENTS[2:6], {"specversion": "1.0", "id": "g1", "source": "test", "type": "task.started",
                                     "subject": "cus_1", "time": "2025-09-01T10:00:00Z", "data": {}}])
    wm.ledger.amend(usage_event("o3-before", provider="acme", model="brand-new", usage=OPENAI,
                                time="2025-06-09T23:59:59.999999Z", usage_format="openai-chat"), "re-routed")
    cur = wm.db.read()
    assert cur.execute("SELECT count(*) FROM live_events WHERE (type = 'llm.usage') <> (rate_key IS NOT NULL)"
                       ).fetchall() == [(0,)]
    # one id per (provider, model, service_tier), the same in events and corrections
    assert cur.execute("SELECT count(*) FROM (SELECT DISTINCT provider, model, service_tier, rate_key FROM "
                       "live_events WHERE type = 'llm.usage')").fetchall() == cur.execute(
        "SELECT count(*) FROM usage_keys").fetchall() == [(4,)]
    wm.close()


def test_the_ledger_stores_every_cell_the_layout_gives(app: Workmeter) -> None:
    layout = current_layout(app.db.read())
    assert layout is not None
    # the dated o3 change, the sonnet tier, deepseek's hours and its missing web-search price split keys
    assert len(layout.dims) >= 3
    assert _stale_cells(app) == 0
    cells = dict(app.db.read().execute("SELECT id, rate_cell FROM live_events").fetchall())
    assert cells["o3-before"] != cells["o3-after"] and cells["ds-peak"] not in (cells["ds-off"], cells["ds-edge"])
    assert cells["sonnet-long"] != cells["sonnet-short"] and cells["ds-search"] != cells["ds-peak"]


CONTRACT = """
[book]
name = "contract"
[[model]]
provider = "openai"
model = "gpt-4o"
prices = { input_mtok = "1", output_mtok = "4" }
"""


def test_a_rating_run_that_splits_a_key_rewrites_its_stored_cells(tmp_path: Any) -> None:
    from datetime import UTC, datetime

    wm = Workmeter.open(tmp_path / "rerate.duckdb")
    gpt = [usage_event(f"g{m}", provider="openai", model="gpt-4o", usage=OPENAI, time=f"2025-0{m}-15T10:00:00Z")
           for m in (5, 7)]
    wm.ledger.ingest([*gpt, EVENTS[0]])
    wm.rater.refresh()
    cells = dict(wm.db.read().execute("SELECT id, rate_cell FROM events").fetchall())
    assert cells["g5"] == cells["g7"] > 0  # gpt-4o's list price is the same all year: one cell
    list_cost = {r["g0"]: r["cost"] for r in cost_by(wm.db, ["id"])}

    book = tmp_path / "contract.toml"
    book.write_text(CONTRACT)
    version = wm.catalog.sync([book]).version
    wm.rater.rerate(datetime(2025, 6, 1, tzinfo=UTC), None, version, "contract from June")
    cells = dict(wm.db.read().execute("SELECT id, rate_cell FROM events").fetchall())
    assert cells["g5"] != cells["g7"] and _stale_cells(wm) == 0
    wm.ledger.ingest([usage_event("g8", provider="openai", model="gpt-4o", usage=OPENAI,
                                  time="2025-08-15T10:00:00Z")])
    assert _stale_cells(wm) == 0  # ingest stores cells under the new layout
    got = {r["g0"]: r["cost"] for r in cost_by(wm.db, ["id"])}
    assert got == {r["g0"]: r["cost"] for r in cost_by(wm.db, ["id"], stored_cells=False)}
    assert got == {r[0]: r[2] for r in _view(wm, "id")}
    assert got["g5"] == list_cost["g5"] and got["g7"] < list_cost["g7"] and got["g8"] == got["g7"]
    assert got["o3-before"] == list_cost["o3-before"]
    wm.close()


def test_rows_written_without_a_cell_are_priced_alike_and_get_theirs(tmp_path: Any) -> None:
    from test_rating_view import insert
    from workmeter.rating.keyed import fill_cells

    wm = Workmeter.open(tmp_path / "direct.duckdb")
    wm.ledger.ingest(EVENTS[:2])  # o3 on both sides of its price change, through the ledger
    wm.rater.refresh()
    insert(wm, [(100 + i, "cus_9", f"2025-06-{9 + i % 2:02d}T12:00:00Z", "openai", "o3",
                 "standard", 1000 * i, 0, 0, 0, 10 * i, 0, 0) for i in range(1, 7)])  # the same key, written directly
    wm.rater.refresh()
    direct = "SELECT count(*) FROM events WHERE rate_cell IS NULL"
    assert wm.db.read().execute(direct).fetchall() == [(6,)]
    before = cost_by(wm.db, ["id"])
    assert before == cost_by(wm.db, ["id"], stored_cells=False)
    assert {r["g0"]: r["cost"] for r in before} == {r[0]: r[2] for r in _view(wm, "id")}
    with wm.db.write() as con:
        fill_cells(con)
    assert wm.db.read().execute(direct).fetchall() == [(0,)] and _stale_cells(wm) == 0
    assert cost_by(wm.db, ["id"]) == before
    wm.close()
