"""Rollups, ROI and trends with hand-computed expectations; the CLI's JSON shape."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import orjson
from typer.testing import CliRunner

from workmeter.app import Workmeter
from workmeter.interfaces.cli.main import app as cli
from workunit_events import (
    HAIKU,
    at,
    call,
    load,
    outcome,
    rated_wm,  # noqa: F401  (the wm fixture: a database with list prices)
    task,
    template_db,
)

AS_OF = at(2, 12)


def scenario() -> list[dict]:
    return [
        task("started", "T1", at(1, 1), workflow="triage"), call("T1", at(1, 1, 1), input=1000, output=200),
        task("completed", "T1", at(1, 2)), outcome("T1", at(1, 2), confirmed=True, value="10"),
        task("started", "T2", at(1, 3), workflow="triage"), call("T2", at(1, 3, 1), input=2000, output=400),
        task("completed", "T2", at(1, 4)), outcome("T2", at(1, 4), confirmed=True, value="10"),
        task("started", "T3", at(1, 5), workflow="triage"), call("T3", at(1, 5, 1), input=1000),
        task("failed", "T3", at(1, 6)),
        task("started", "T4", at(1, 7), workflow="triage"), call("T4", at(1, 7, 1), model=HAIKU, output=1000),
        task("abandoned", "T4", at(1, 8)),
        task("started", "T5", at(2, 11), workflow="triage"),
        task("started", "D1", at(1, 9), workflow="draft"), call("D1", at(1, 9, 1), input=1000),
        task("started", "D1c", at(2, 10), workflow="search", parent_task_id="D1"),
        call("D1c", at(2, 10, 1), input=1000), task("completed", "D1", at(2, 10, 30)),
        call(None, at(1, 12), input=10_000),    # unattributed: $0.03
    ]


def test_workflow_rollup_by_hand(wm: Workmeter) -> None:
    load(wm, scenario())
    rows = {r["workflow"]: r for r in wm.work.work("workflow", as_of=AS_OF, outcome_price=Decimal("0.99"))}
    assert set(rows) == {"triage", "draft"}      # the subtask rides with its parent at top scope
    t = rows["triage"]
    assert (t["tasks_started"], t["tasks_completed"], t["tasks_failed"], t["tasks_abandoned"],
            t["tasks_running"]) == (5, 2, 1, 1, 1)
    assert t["cost"] == Decimal("0.026")                          # 0.006 + 0.012 + 0.003 + 0.005
    assert t["cost_per_completed_task"] == Decimal("0.013")       # fully loaded: 0.026 / 2
    assert t["naive_cost_per_completed_task"] == Decimal("0.009")  # (0.006 + 0.012) / 2
    assert t["tokens_per_completed_task"] == 2800                 # (1200 + 2400 + 1000 + 1000) / 2
    assert t["success_rate"] == Decimal("0.5")                    # 2 / (2 + 1 + 1)
    assert t["value"] == 20 and t["roi"] == Decimal("769.230769")  # 20 / 0.026, 6 places half-even
    assert (t["revenue"], t["margin"], t["margin_rate"]) == (Decimal("1.98"), Decimal("1.954"), Decimal("0.986869"))
    d = rows["draft"]
    assert (d["tasks_started"], d["tasks_completed"], d["cost"]) == (1, 1, Decimal("0.006"))
    assert d["roi"] == 0 and d["naive_cost_per_completed_task"] == Decimal("0.006")


def test_scope_all_counts_every_task_with_its_own_cost(wm: Workmeter) -> None:
    load(wm, scenario())
    rows = {r["workflow"]: r for r in wm.work.work("workflow", scope="all", as_of=AS_OF)}
    assert rows["draft"]["cost"] == rows["search"]["cost"] == Decimal("0.003")
    assert rows["search"]["tasks_running"] == 1 and rows["search"]["cost_per_completed_task"] is None


def test_group_keys_customer_model_day(wm: Workmeter) -> None:
    load(wm, [*scenario(), task("started", "X", at(1), customer="beta", workflow="triage"),
              call("X", at(1, 0, 5), customer="beta", input=1000), task("completed", "X", at(1, 1), customer="beta")])
    by_customer = {r["customer"]: r["cost"] for r in wm.work.work("customer", as_of=AS_OF)}
    assert by_customer == {"acme": Decimal("0.032"), "beta": Decimal("0.003")}
    by_model = {r["model"]: r["tasks_started"] for r in wm.work.work("model", as_of=AS_OF)}
    assert by_model == {"claude-sonnet-4-5": 5, HAIKU: 1, None: 1}       # T5 made no call
    by_day = {(r["workflow"], r["day"]): r["tasks_started"] for r in wm.work.work("workflow,day", as_of=AS_OF)}
    assert by_day[("triage", "2026-10-01")] == 5 and by_day[("triage", "2026-10-02")] == 1


def test_roi_rows(wm: Workmeter) -> None:
    load(wm, scenario())
    r = {x["workflow"]: x for x in wm.work.roi("workflow", as_of=AS_OF)}["triage"]
    assert (r["value"], r["cost"], r["net_value"], r["roi"]) == (20, Decimal("0.026"), Decimal("19.974"),
                                                                 Decimal("769.230769"))


def test_window_selects_tasks_by_start(wm: Workmeter) -> None:
    load(wm, scenario())
    rows = wm.work.work("workflow", start="2026-10-02", end="2026-10-03", as_of=AS_OF)
    assert [(r["workflow"], r["tasks_started"]) for r in rows] == [("triage", 1)]


def test_trends_flag_tokens_growing_without_work(wm: Workmeter) -> None:
    events = []
    for month, calls in ((9, 1), (10, 3)):                          # tokens triple, completed work flat
        for i in range(2):
            tid = f"m{month}-{i}"
            events += [task("started", tid, at(3, month=month), workflow="triage"),
                       *[call(tid, at(3, 1, j, month=month), input=1000) for j in range(calls)],
                       task("completed", tid, at(3, 2, month=month))]
    events += [task("started", "g9", at(3, month=9), workflow="grow"), call("g9", at(3, 1, month=9), input=100),
               task("completed", "g9", at(3, 2, month=9))]
    events += [x for i in range(2) for x in (task("started", f"g10-{i}", at(3, month=10), workflow="grow"),
                                             call(f"g10-{i}", at(3, 1, month=10), input=100),
                                             task("completed", f"g10-{i}", at(3, 2, month=10)))]
    load(wm, events)
    rows = {(r["workflow"], r["period"]): r for r in wm.work.trends("workflow", as_of=at(5))}
    tri = rows[("triage", "2026-10")]
    assert (tri["tokens_growth"], tri["completed_growth"], tri["vanity"]) == (2, 0, True)
    grow = rows[("grow", "2026-10")]
    assert (grow["tokens_growth"], grow["completed_growth"], grow["vanity"]) == (1, 1, False)
    assert rows[("triage", "2026-09")]["tokens_growth"] is None


def test_cli_work_json_carries_decimal_strings(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    shutil.copyfile(template_db(), db)
    with Workmeter.open(db) as app:
        load(app, scenario())
    res = CliRunner().invoke(cli, ["--db", str(db), "work", "--by", "workflow", "--as-of", AS_OF, "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["workflow"]: r for r in orjson.loads(res.stdout)}
    t = rows["triage"]
    for key in ("tasks_started", "tasks_completed", "tasks_failed", "tasks_abandoned"):
        assert isinstance(t[key], int)
    assert (t["cost"], t["cost_per_completed_task"], t["naive_cost_per_completed_task"]) == ("0.026", "0.013", "0.009")
    assert (t["tokens_per_completed_task"], t["value"], t["roi"]) == ("2800", "20", "769.230769")
    res = CliRunner().invoke(cli, ["--db", str(db), "tasks", "--workflow", "triage", "--as-of", AS_OF, "--json"])
    assert res.exit_code == 0, res.output
    assert sorted(r["task_id"] for r in orjson.loads(res.stdout)) == ["T1", "T2", "T3", "T4", "T5"]
