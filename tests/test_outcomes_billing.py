"""The ``per_outcome`` charge on real invoices: bills once per task, credits reopens on the next invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from workmeter.app import Workmeter
from workmeter.billing.plan_files import load_plan_text
from workmeter.core.errors import InvalidPlan
from workunit_events import (
    at,
    load,
    outcome,
    rated_wm,  # noqa: F401  (the wm fixture: a database with list prices)
    task,
)

PLAN = """
[plan]
key = "per-resolution"
currency = "USD"
interval = "month"

[[charge]]
key = "platform"
type = "flat"
amount = "10.00"

[[charge]]
key = "resolutions"
type = "per_outcome"
outcome = "resolved"
unit_price = "0.99"
"""


def setup(wm: Workmeter, tmp_path: Path, plan: str = PLAN) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(plan)
    wm.billing.apply_plans([path])
    wm.billing.add_customer("acme")
    wm.billing.subscribe("acme", "per-resolution", date(2026, 10, 1))


def lines(invoice: dict) -> list[tuple[str, str, str]]:
    return [(ln["charge"], ln["quantity"], ln["amount"]) for ln in invoice["lines"]]


def test_outcomes_bill_once_and_a_later_reopen_is_credited_next_month(wm: Workmeter, tmp_path: Path) -> None:
    setup(wm, tmp_path)
    load(wm, [
        task("started", "t1", at(1)), outcome("t1", at(2), confirmed=True),
        outcome("t1", at(3), confirmed=True),                                   # once per task
        task("started", "t2", at(1)), outcome("t2", at(5), verified=True),
        task("started", "t3", at(1)), outcome("t3", at(6), confirmed=True),
        outcome("t3", at(7), "reopened"),                                       # same month: never billed
        task("started", "t4", at(1)), outcome("t4", at(8), confirmed=False),    # unconfirmed: not billed
        outcome("t1", at(3, month=11), "reopened"),                             # November: credit
    ])
    october = wm.billing.finalize("acme", "2026-10")
    assert lines(october) == [("platform", "1", "10.00"), ("resolutions", "2", "1.98")]
    assert october["total"] == "11.98"
    november = wm.billing.preview("acme", "2026-11")
    assert lines(november) == [("platform", "1", "10.00"), ("resolutions", "0", "0.00"),
                               ("resolutions", "1", "-0.99")]
    assert november["total"] == "9.01"


def test_assumed_mode_from_the_plan(wm: Workmeter, tmp_path: Path) -> None:
    setup(wm, tmp_path, PLAN + 'mode = "assumed"\nassume_after_hours = 72\n')
    load(wm, [task("started", "a", at(1)), outcome("a", at(10)),                # billable 13 Oct
              task("started", "b", at(1)), outcome("b", at(30)),                # billable 2 Nov
              task("started", "c", at(1)), outcome("c", at(20)), outcome("c", at(21), "reopened")])
    assert lines(wm.billing.preview("acme", "2026-10"))[1] == ("resolutions", "1", "0.99")
    assert lines(wm.billing.preview("acme", "2026-11"))[1] == ("resolutions", "1", "0.99")


def test_plan_fields_are_validated() -> None:
    with pytest.raises(InvalidPlan) as err:
        load_plan_text(PLAN.replace('unit_price = "0.99"', 'unit_price = "0.99"\nmode = "sometimes"'), "p.toml")
    assert "p.toml:17: charge 'resolutions': field 'mode': 'sometimes' is not one of" in err.value.message
    plan = load_plan_text(PLAN, "p.toml")
    charge = plan.charges[1]
    assert (charge.type, charge.outcome, charge.unit_price) == ("per_outcome", "resolved", Decimal("0.99"))
