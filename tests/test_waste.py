"""Waste findings, each with a hand-computed estimated saving and example task ids."""

from __future__ import annotations

from decimal import Decimal

from workmeter.app import Workmeter
from workunit_events import (
    HAIKU,
    at,
    call,
    load,
    rated_wm,  # noqa: F401  (the wm fixture: a database with list prices)
    task,
)

AS_OF = at(3)


def done(tid: str, workflow: str, *calls: dict, status: str = "completed") -> list[dict]:
    return [task("started", tid, at(1, 1), workflow=workflow), *calls, task(status, tid, at(1, 2))]


def scenario() -> list[dict]:
    ev = done("F", "w", call("F", at(1, 1, 1), input=10_000), status="failed")                 # $0.03
    ev += done("R", "w", *[call("R", at(1, 1, i), input=1000, output=100, prompt_hash="x") for i in range(4)])
    ev += done("C1", "w", call("C1", at(1, 1, 1), input=4000, prompt_hash="big"))
    ev += done("C2", "w", call("C2", at(1, 1, 2), input=4000, prompt_hash="big"))              # repeat, uncached
    ev += done("S1", "w", call("S1", at(1, 1, 1), input=500, prompt_hash="small"))
    ev += done("S2", "w", call("S2", at(1, 1, 2), input=500, prompt_hash="small"))             # too small to cache
    for i in range(20):
        ev += done(f"B{i}", "bulk", call(f"B{i}", at(1, 1, 1), input=1000))                    # $0.003 each
    ev += done("HUGE", "bulk", call("HUGE", at(1, 1, 1), input=100_000))                       # $0.30
    for i in range(5):
        ev += done(f"H{i}", "sum", call(f"H{i}", at(1, 1, 1), model=HAIKU, output=1000))       # $0.005 each
    for i in range(2):
        ev += done(f"O{i}", "sum", call(f"O{i}", at(1, 1, 1), output=1000))                    # $0.015 each
    return ev


def test_findings_ranked_in_dollars_with_examples(wm: Workmeter) -> None:
    load(wm, scenario())
    found = [(f["kind"], f["detail"], f["estimated_saving"], f["tasks"], f["examples"])
             for f in wm.work.waste(as_of=AS_OF)]
    assert found == [
        ("runaway", None, Decimal("0.291"), 1, ["HUGE"]),                       # 0.30 − 3 × p95 (0.003)
        ("failed_or_abandoned", "failed", Decimal("0.03"), 1, ["F"]),
        ("expensive_model", "claude-sonnet-4-5 → claude-haiku-4-5", Decimal("0.02"), 2, ["O0", "O1"]),
        ("retry_storm", None, Decimal("0.0135"), 1, ["R"]),                     # 3 repeats × $0.0045
        ("low_cache_reuse", None, Decimal("0.0108"), 1, ["C2"]),                # 4000 × ($3 − $0.30) / 1M
    ]


def test_tokens_and_grouping_by_workflow(wm: Workmeter) -> None:
    load(wm, scenario())
    rows = {(f["kind"], f["workflow"]): f for f in wm.work.waste("workflow", as_of=AS_OF)}
    assert set(rows) == {("runaway", "bulk"), ("failed_or_abandoned", "w"), ("expensive_model", "sum"),
                         ("retry_storm", "w"), ("low_cache_reuse", "w")}
    assert rows[("failed_or_abandoned", "w")]["tokens"] == 10_000
    assert rows[("retry_storm", "w")]["tokens"] == 3 * 1100
    assert rows[("low_cache_reuse", "w")]["tokens"] == 4000


def test_waste_inside_a_failed_task_is_counted_once(wm: Workmeter) -> None:
    load(wm, done("F", "w", *[call("F", at(1, 1, i), input=1000, prompt_hash="x") for i in range(4)],
                  status="abandoned"))
    found = wm.work.waste(as_of=AS_OF)
    assert [(f["kind"], f["detail"], f["estimated_saving"]) for f in found] == [
        ("failed_or_abandoned", "abandoned", Decimal("0.012"))]


def test_cheaper_model_with_a_worse_success_rate_is_no_alternative(wm: Workmeter) -> None:
    events: list[dict] = []
    for i in range(5):
        events += done(f"H{i}", "sum", call(f"H{i}", at(1, 1, 1), model=HAIKU, output=1000))
    for i in range(5):
        events += done(f"Hf{i}", "sum", call(f"Hf{i}", at(1, 1, 1), model=HAIKU, output=10), status="failed")
    events += done("O", "sum", call("O", at(1, 1, 1), output=1000))
    load(wm, events)
    assert "expensive_model" not in {f["kind"] for f in wm.work.waste(as_of=AS_OF)}


def test_an_unpriced_model_is_never_the_cheaper_alternative(wm: Workmeter) -> None:
    ev: list[dict] = []
    for i in range(5):
        ev += done(f"U{i}", "sum", call(f"U{i}", at(1, 1, 1), model="in-house-ft-model", output=1000))
    for i in range(2):
        ev += done(f"O{i}", "sum", call(f"O{i}", at(1, 1, 1), output=1000))
    load(wm, ev)
    assert "expensive_model" not in {f["kind"] for f in wm.work.waste(as_of=AS_OF)}
