"""Outcome semantics: once per task, confirmed vs assumed after inactivity, clawback on reopen."""

from __future__ import annotations

from decimal import Decimal

from workmeter.app import Workmeter
from workmeter.workunits import OutcomeRule
from workunit_events import (
    at,
    call,
    load,
    outcome,
    rated_wm,  # noqa: F401  (the wm fixture: a database with list prices)
    task,
)

OCT = ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")
NOV = ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
ASSUMED_72H = OutcomeRule(mode="assumed", assume_after_hours=Decimal(72))
LATE = "2026-12-15T00:00:00Z"


def bills(wm: Workmeter, period: tuple[str, str] = OCT, rule: OutcomeRule | None = None,
          as_of: str = LATE, customer: str | None = "acme") -> list[tuple[str, str]]:
    lines = wm.work.billable_outcomes(customer, *period, outcome="resolved", rule=rule, as_of=as_of)
    return [(x.task_id, x.occurred_at.isoformat()) for x in lines]


def credits(wm: Workmeter, period: tuple[str, str], rule: OutcomeRule | None = None) -> list[tuple[str, str]]:
    lines = wm.work.clawbacks("acme", *period, outcome="resolved", rule=rule, as_of=LATE)
    return [(x.task_id, x.billed_at.isoformat() if x.billed_at else "") for x in lines]


def test_confirmed_outcome_bills_at_its_time_and_unconfirmed_never_in_confirmed_mode(wm: Workmeter) -> None:
    load(wm, [task("started", "a", at(1)), outcome("a", at(2, 9), confirmed=True, value="12.50"),
              task("started", "b", at(1)), outcome("b", at(2, 9), confirmed=False),
              task("started", "c", at(1)), outcome("c", at(2, 9), verified=True)])
    lines = wm.work.billable_outcomes("acme", *OCT, outcome="resolved", as_of=LATE)
    assert [(x.task_id, x.occurred_at.isoformat(), x.value) for x in lines] == [
        ("a", "2026-10-02T09:00:00+00:00", Decimal("12.5")), ("c", "2026-10-02T09:00:00+00:00", None)]


def test_assumed_outcome_bills_after_n_quiet_hours(wm: Workmeter) -> None:
    load(wm, [task("started", "q", at(1)), outcome("q", at(2, 0)),                    # quiet afterwards
              task("started", "busy", at(1)), outcome("busy", at(2, 0)),
              call("busy", at(2, 10), input=10), task("completed", "busy", at(3, 0))])  # quiet from 3 Oct 00:00
    assert bills(wm, rule=ASSUMED_72H) == [("q", "2026-10-05T00:00:00+00:00"),
                                            ("busy", "2026-10-06T00:00:00+00:00")]
    # before the 72 quiet hours have passed the outcome is still pending
    assert bills(wm, rule=ASSUMED_72H, as_of="2026-10-05T12:00:00Z") == [("q", "2026-10-05T00:00:00+00:00")]
    # confirmed-only mode ignores the unconfirmed outcomes entirely
    assert bills(wm) == []


def test_gap_shorter_than_n_does_not_count(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1)), outcome("t", at(2, 0)),
              call("t", at(4, 23), input=1),       # 71 h after the outcome: the wait restarts
              call("t", at(7, 22), input=1)])      # 71 h later again
    assert bills(wm, rule=ASSUMED_72H) == [("t", "2026-10-10T22:00:00+00:00")]


def test_reopen_during_the_wait_cancels_without_credit(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1)), outcome("t", at(2)), outcome("t", at(3), "reopened")])
    assert bills(wm, rule=ASSUMED_72H) == []
    assert credits(wm, NOV, rule=ASSUMED_72H) == credits(wm, OCT, rule=ASSUMED_72H) == []


def test_counted_at_most_once_per_task(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1)), outcome("t", at(2), confirmed=True),
              outcome("t", at(3), confirmed=True), outcome("t", at(4), confirmed=True)])
    assert bills(wm) == [("t", "2026-10-02T00:00:00+00:00")]


def test_reopen_after_billing_is_a_credit_in_the_next_period(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(20)), outcome("t", at(30), confirmed=True),
              outcome("t", at(3, month=11), "reopened")])
    assert bills(wm, OCT) == [("t", "2026-10-30T00:00:00+00:00")]       # October's invoice still bills it
    assert credits(wm, NOV) == [("t", "2026-10-30T00:00:00+00:00")]     # November's invoice credits it
    assert credits(wm, OCT) == [] and bills(wm, NOV) == []


def test_credit_reaches_across_several_periods(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1)), outcome("t", at(2), confirmed=True),
              outcome("t", at(10, month=12), "reopened")])
    assert credits(wm, ("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")) == [("t", "2026-10-02T00:00:00+00:00")]
    assert credits(wm, NOV) == []


def test_bill_and_reopen_in_the_same_period_cancel_out(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1)), outcome("t", at(2), confirmed=True), outcome("t", at(9), "reopened")])
    assert bills(wm) == [] and credits(wm, OCT) == [] and credits(wm, NOV) == []


def test_resolved_again_after_a_clawback_bills_again(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1)), outcome("t", at(2), confirmed=True),
              outcome("t", at(2, month=11), "reopened"), outcome("t", at(5, month=11), confirmed=True)])
    assert bills(wm, OCT) == [("t", "2026-10-02T00:00:00+00:00")]
    assert bills(wm, NOV) == [("t", "2026-11-05T00:00:00+00:00")]
    assert credits(wm, NOV) == [("t", "2026-10-02T00:00:00+00:00")]


def test_reopen_before_any_outcome_is_ignored(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1)), outcome("t", at(2), "reopened"), outcome("t", at(3), confirmed=True)])
    assert bills(wm) == [("t", "2026-10-03T00:00:00+00:00")] and credits(wm, OCT) == []


def test_rules_are_per_outcome_type_and_per_customer(wm: Workmeter) -> None:
    load(wm, [task("started", "t", at(1)), outcome("t", at(2), "escalated", confirmed=True),
              task("started", "t", at(1), customer="other"), outcome("t", at(2), confirmed=True, customer="other")])
    assert bills(wm) == []                                    # acme's outcome is another type
    assert bills(wm, customer="other") == [("t", "2026-10-02T00:00:00+00:00")]
    every = wm.work.billable_outcomes(None, *OCT, as_of=LATE)
    assert sorted((x.customer, x.outcome) for x in every) == [("acme", "escalated"), ("other", "resolved")]


def test_task_rows_carry_outcome_value_and_billing_state(wm: Workmeter) -> None:
    load(wm, [task("started", "won", at(1)), outcome("won", at(2), confirmed=True, value="40"),
              task("started", "lost", at(1)), outcome("lost", at(2), confirmed=True, value="25"),
              outcome("lost", at(3), "reopened"),
              task("started", "eur", at(1)), outcome("eur", at(2), confirmed=True, value="9", currency="EUR")])
    rows = {t["task_id"]: t for t in wm.work.tasks(as_of=LATE)}
    assert (rows["won"]["outcome"], rows["won"]["value"], rows["won"]["outcomes_billed"]) == ("resolved", 40, 1)
    assert (rows["lost"]["outcome"], rows["lost"]["value"], rows["lost"]["outcomes_billed"]) == ("reopened", 0, 0)
    assert rows["eur"]["value"] == 0   # another currency is not converted, so not counted
