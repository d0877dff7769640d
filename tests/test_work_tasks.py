"""Per-task state: lifecycle, usage, retries, models, nesting — derived from real ingested events."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workmeter.app import Workmeter
from workunit_events import (
    HAIKU,
    SONNET,
    at,
    call,
    cost,
    load,
    rated_wm,  # noqa: F401  (the wm fixture: a database with list prices)
    task,
)

AS_OF = at(5)


def by_id(wm: Workmeter, **kw: object) -> dict[str, dict]:
    return {t["task_id"]: t for t in wm.work.tasks(as_of=AS_OF, **kw)}


def test_lifecycle_status_and_duration(wm: Workmeter) -> None:
    load(wm, [
        task("started", "ok", at(1, 10), workflow="triage"), task("completed", "ok", at(1, 10, 5)),
        task("started", "bad", at(1, 11), workflow="triage"), task("failed", "bad", at(1, 11, 1)),
        task("started", "gave_up", at(1, 12), workflow="triage"), task("abandoned", "gave_up", at(1, 12, 30)),
        task("started", "stale", at(3, 0), workflow="triage"), call("stale", at(3, 1), input=10),
        task("started", "live", at(4, 23), workflow="triage"), call("live", at(4, 23, 30), input=10),
        # the last terminal event wins: a completed task that later fails is failed
        task("started", "flip", at(1, 9), workflow="triage"), task("completed", "flip", at(1, 9, 1)),
        task("failed", "flip", at(1, 9, 2)),
    ])
    t = by_id(wm)
    assert {k: v["status"] for k, v in t.items()} == {
        "ok": "completed", "bad": "failed", "gave_up": "abandoned", "stale": "abandoned", "live": "running",
        "flip": "failed"}
    assert t["ok"]["duration_s"] == 300
    # stale: no terminal event, last activity 3 Oct 01:00, more than 24 h before 5 Oct 00:00
    assert t["stale"]["abandoned_inferred"] is True and t["gave_up"]["abandoned_inferred"] is False
    assert t["stale"]["duration_s"] == 3600
    assert t["live"]["status"] == "running"
    assert by_id(wm, status="failed").keys() == {"bad", "flip"}


def test_calls_tokens_cost_retries_and_models(wm: Workmeter) -> None:
    load(wm, [
        task("started", "t1", at(1, 10), workflow="draft", attributes={"team": "support"}),
        call("t1", at(1, 10, 1), input=1000, output=200, prompt_hash="p1"),
        call("t1", at(1, 10, 2), input=1000, output=200, prompt_hash="p1"),
        call("t1", at(1, 10, 3), input=1000, output=200, prompt_hash="p1"),
        call("t1", at(1, 10, 4), input=500, cache_read=4000, output=100, prompt_hash="p2"),
        call("t1", at(1, 10, 5), model=HAIKU, input=2000, output=50),
        task("completed", "t1", at(1, 10, 6)),
    ])
    t = by_id(wm)["t1"]
    assert (t["calls"], t["input"], t["cache_read"], t["output"]) == (5, 5500, 4000, 750)
    assert t["tokens"] == 5500 + 4000 + 750
    expected = 3 * cost(input=1000, output=200) + cost(input=500, cache_read=4000, output=100) \
        + cost(HAIKU, input=2000, output=50)
    assert t["cost"] == expected == Decimal("0.02445")
    assert t["retries"] == 2            # p1 sent three times: two repeats
    assert t["models"] == [HAIKU, SONNET] and t["model"] == SONNET
    assert (t["workflow"], t["team"]) == ("draft", "support")


def test_unpriced_calls_are_counted_not_zeroed(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1), workflow="w"), call("t", at(1, 1), input=1000),
              call("t", at(1, 2), model="no-such-model", input=10**6), task("completed", "t", at(1, 3))])
    t = by_id(wm)["t"]
    assert t["cost"] == cost(input=1000) and t["unpriced_calls"] == 1


def test_usage_without_task_events_still_forms_a_task(wm: Workmeter) -> None:
    load(wm, [call("orphan", at(4, 23), input=100, workflow="batch")])
    t = by_id(wm)["orphan"]
    assert (t["workflow"], t["status"], t["calls"]) == ("batch", "running", 1)


def test_parent_cost_includes_children(wm: Workmeter) -> None:
    load(wm, [
        task("started", "root", at(1, 10), workflow="agent"), call("root", at(1, 10, 1), input=1000),
        task("started", "child", at(1, 10, 2), workflow="search", parent_task_id="root"),
        call("child", at(1, 10, 3), input=2000),
        task("started", "grandchild", at(1, 10, 4), workflow="search", parent_task_id="child"),
        call("grandchild", at(1, 10, 5), model=HAIKU, output=1000),
        task("started", "lost", at(1, 11), workflow="agent", parent_task_id="never-seen"),
        task("completed", "root", at(1, 12)),
    ])
    t = by_id(wm)
    assert t["root"]["cost_total"] == cost(input=1000) + cost(input=2000) + cost(HAIKU, output=1000)
    assert t["child"]["cost_total"] == cost(input=2000) + cost(HAIKU, output=1000)
    assert t["root"]["cost"] == cost(input=1000)
    assert (t["root"]["subtasks"], t["root"]["calls_total"]) == (2, 3)
    assert [t[k]["is_top"] for k in ("root", "child", "grandchild", "lost")] == [True, False, False, True]
    assert t["grandchild"]["root_task_id"] == "root"
    assert t["lost"]["parent_task_id"] is None    # a parent that never appears is ignored
    assert [x["task_id"] for x in wm.work.tasks(as_of=AS_OF, top_only=True)] == ["lost", "root"]


def test_parent_cycle_is_broken_so_costs_count_once(wm: Workmeter) -> None:
    load(wm, [
        task("started", "a", at(1), workflow="w", parent_task_id="b"), call("a", at(1, 1), input=1000),
        task("started", "b", at(1), workflow="w", parent_task_id="a"), call("b", at(1, 2), input=3000),
        task("started", "c", at(1), workflow="w", parent_task_id="a"), call("c", at(1, 3), input=5000),
    ])
    t = by_id(wm)
    assert t["a"]["is_top"] and t["b"]["is_top"] and not t["c"]["is_top"]
    totals = wm.work.totals(as_of=AS_OF)
    assert totals["task_cost"] == totals["total_cost"] == cost(input=9000)


def test_same_task_id_for_two_customers_is_two_tasks(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1), customer="a", workflow="w"), call("t", at(1, 1), customer="a", input=1),
              task("started", "t", at(1), customer="b", workflow="w"), call("t", at(1, 1), customer="b", input=2)])
    rows = wm.work.tasks(as_of=AS_OF)
    assert sorted((r["customer"], r["input"]) for r in rows) == [("a", 1), ("b", 2)]
    assert [r["customer"] for r in wm.work.tasks(as_of=AS_OF, customer="b")] == ["b"]


def test_voided_events_do_not_count(wm: Workmeter) -> None:
    events = [task("started", "t", at(1), workflow="w"), call("t", at(1, 1), input=1000),
              call("t", at(1, 2), input=1000)]
    load(wm, events)
    wm.ledger.void("tests", events[2]["id"], "sent twice")
    assert by_id(wm)["t"]["calls"] == 1


def test_models_lists_are_the_same_with_many_models(wm: Workmeter, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 64 distinct models a task's models are listed per task instead of as a bit mask: same lists."""
    from workmeter.workunits import tasks as tasks_module

    load(wm, [task("started", "t1", at(1, 10), workflow="w"), call("t1", at(1, 10, 1), input=10),
              call("t1", at(1, 10, 2), model=HAIKU, input=10), call("t1", at(1, 10, 3), model="zz-unknown", input=5),
              call("t2", at(1, 11), model=HAIKU, input=10), call(None, at(1, 12), input=10)])
    masked = wm.work.tasks(as_of=AS_OF)
    monkeypatch.setattr(tasks_module, "_MASK_BITS", 0)
    assert wm.work.tasks(as_of=AS_OF) == masked
    assert {t["task_id"]: t["models"] for t in masked} == {"t1": [HAIKU, SONNET, "zz-unknown"], "t2": [HAIKU]}
