"""Outcome reports judge each customer's outcomes by the rule of the customer's plan, as invoices do."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from workmeter.app import Workmeter
from workmeter.workunits import OutcomeRule
from workunit_events import (
    at,
    load,
    outcome,
    rated_wm,  # noqa: F401  (the wm fixture: a database with list prices)
    task,
)

PLAN = """
[plan]
key = "assumed"
currency = "USD"
interval = "month"

[[charge]]
key = "resolutions"
type = "per_outcome"
outcome = "resolved"
unit_price = "0.99"
mode = "assumed"
assume_after_hours = 1
"""
AS_OF = at(20)


def setup(wm: Workmeter, tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(PLAN)
    wm.billing.apply_plans([path])
    for customer in ("acme", "beta", "late"):
        wm.billing.add_customer(customer)
    wm.billing.subscribe("acme", "assumed", date(2026, 10, 1))
    wm.billing.subscribe("late", "assumed", date(2026, 10, 10))  # beta: no plan
    load(wm, [
        task("started", "t1", at(1)), outcome("t1", at(2)),                        # acme: assumed after 1 h
        task("started", "t2", at(1), customer="beta"), outcome("t2", at(2), customer="beta"),
        task("started", "t3", at(1), customer="late"), outcome("t3", at(2), customer="late"),  # before its plan
        task("started", "t4", at(11), customer="late"), outcome("t4", at(12), customer="late"),
    ])


def test_timeline_and_work_follow_each_customers_plan(wm: Workmeter, tmp_path: Path) -> None:
    setup(wm, tmp_path)
    bills = [(r["customer"], r["task_id"], r["occurred_at"].isoformat())
             for r in wm.work.outcome_timeline(as_of=AS_OF)]
    # beta (no plan) and late's outcome before its plan began follow the default: confirmed only
    assert bills == [("acme", "t1", "2026-10-02T01:00:00+00:00"), ("late", "t4", "2026-10-12T01:00:00+00:00")]
    billed = {r["customer"]: r["outcomes_billed"] for r in wm.work.work("customer", as_of=AS_OF)}
    assert billed == {"acme": 1, "beta": 0, "late": 1}


def test_report_counts_what_the_invoice_bills(wm: Workmeter, tmp_path: Path) -> None:
    setup(wm, tmp_path)
    lines = wm.billing.preview("acme", "2026-10")["lines"]
    assert [(ln["charge"], ln["quantity"]) for ln in lines] == [("resolutions", "1")]
    found = wm.work.billable_outcomes("acme", at(1), at(1, month=11), as_of=AS_OF)
    assert [(o.task_id, o.kind) for o in found] == [("t1", "bill")]


def test_an_explicit_rule_overrides_the_plan(wm: Workmeter, tmp_path: Path) -> None:
    setup(wm, tmp_path)
    found = wm.work.billable_outcomes("acme", at(1), at(1, month=11), outcome="resolved",
                                      rule=OutcomeRule(mode="confirmed"), as_of=AS_OF)
    assert found == []
