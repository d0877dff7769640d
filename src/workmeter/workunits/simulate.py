"""The pricing simulator: what each customer would pay under other plans, on real history.

For one period and a list of plan files (flat subscription, per-token markup,
per completed task / per outcome, hybrid …), every customer with events in
the period is priced as if subscribed to each plan for the whole period
(in its own timezone when billing knows the customer, else UTC); a customer
asked for by name must be a billing customer or have events in the period
(else ``NotFound``: a typo is not priced as an idle customer). The plans
are parsed by the billing plan loader and priced by the billing engine itself
(same usage collection, same charge code, same rounding: revenue is the
invoice subtotal, Σ line amounts each rounded half-even). Credits and
commitment history are not applied: this is list price.

Per customer and plan: ``revenue``, ``margin`` = revenue − rated provider
cost, ``margin_rate`` = margin / revenue and ``change`` = revenue − revenue
under the *first* plan (the baseline). Unpriced calls carry no cost and are
counted beside it, so a margin is never silently flattered.

Summary per plan: revenue, cost, margin, margin_rate, customers who pay more
/ less / the same than under the baseline, and the spread of the per-customer
change (``change_min``, ``change_max``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from workmeter.billing.aggregates import SegmentUsage
from workmeter.billing.amounts import ZERO, add
from workmeter.billing.collect import SegmentRow, collect
from workmeter.billing.engine import PlanSegment, segment_lines
from workmeter.billing.invoicing import plan_meters
from workmeter.billing.periods import Period, Segment, month_period, to_utc
from workmeter.billing.plan_files import load_plan_file
from workmeter.billing.plans import PlanDef
from workmeter.core.errors import InvalidInput, NotFound
from workmeter.core.money import round_money
from workmeter.workunits.ratios import ratio


@dataclass(frozen=True)
class Inputs:
    """What the simulator reads from billing: meters' relations, the rated view, known timezones."""

    relation_for: Callable[[Any], str]
    rated_view: Callable[[], str | None]
    timezones: dict[str, str]


def load_plans(paths: Sequence[str | Path]) -> list[tuple[str, PlanDef]]:
    """(label, plan) per file; the label is the plan key, or the file name when keys repeat."""
    if not paths:
        raise InvalidInput("give at least one plan file", where="--plans")
    plans = [(Path(p), load_plan_file(p)) for p in paths]
    keys = [plan.key for _, plan in plans]
    return [(plan.key if keys.count(plan.key) == 1 else path.stem, plan) for path, plan in plans]


def customers_in(con: duckdb.DuckDBPyConnection, period_key: str) -> list[str]:
    """Subjects with any event in the month (UTC, widened by a day for other timezones)."""
    p = month_period(period_key, "UTC")
    rows = con.execute("SELECT DISTINCT subject FROM live_events WHERE time >= $a - INTERVAL 1 DAY "
                       "AND time < $b + INTERVAL 1 DAY ORDER BY 1", {"a": p.start, "b": p.end}).fetchall()
    return [r[0] for r in rows]


def _price(con: duckdb.DuckDBPyConnection, inputs: Inputs, plan: PlanDef,
           periods: dict[str, Period]) -> dict[str, tuple[Decimal, SegmentUsage]]:
    rows = [SegmentRow(c, p.key, 0, to_utc(p.start), to_utc(p.end), plan_meters(plan)) for c, p in periods.items()]
    sources = sorted({s for charge in plan.charges for s in charge.sources()})
    usage = collect(con, rows, sources, inputs.rated_view(), inputs.relation_for)
    out = {}
    for c, p in periods.items():
        u = usage[(c, p.key, 0)]
        lines = segment_lines(PlanSegment(Segment(p, p.first, p.after), plan, 0, u), plan.currency)
        out[c] = (add(*(round_money(ln.amount_exact, plan.currency) for ln in lines)), u)
    return out


def simulate(con: duckdb.DuckDBPyConnection, inputs: Inputs, plan_paths: Sequence[str | Path], period_key: str,
             customers: Sequence[str] | None = None) -> dict[str, Any]:
    plans = load_plans(plan_paths)
    active = customers_in(con, period_key)
    who = list(customers) if customers else active
    unknown = [c for c in who if c not in inputs.timezones and c not in set(active)]
    if unknown:  # a typo would otherwise be priced as an idle customer paying the fees
        raise NotFound(f"no customer {', '.join(map(repr, unknown))}: not a billing customer and no events "
                       f"in {period_key}", where="--customer")
    periods = {c: month_period(period_key, inputs.timezones.get(c, "UTC")) for c in who}
    priced = [(label, _price(con, inputs, plan, periods)) for label, plan in plans]
    rows: list[dict[str, Any]] = []
    for c in who:
        usage = priced[0][1][c][1]
        cost, unpriced = usage.cost(), usage.unpriced()[0]
        base = priced[0][1][c][0]
        per_plan = {label: _cell(res[c][0], cost, base) for label, res in priced}
        rows.append({"customer": c, "cost": cost, "unpriced_calls": unpriced, "plans": per_plan})
    summary = [_summary(label, [r["plans"][label] for r in rows], [r["cost"] for r in rows]) for label, _ in plans]
    return {"period": period_key, "baseline": plans[0][0], "plans": [label for label, _ in plans],
            "customers": rows, "summary": summary}


def _cell(revenue: Decimal, cost: Decimal, base: Decimal) -> dict[str, Any]:
    return {"revenue": revenue, "margin": revenue - cost, "margin_rate": ratio(revenue - cost, revenue),
            "change": revenue - base}


def _summary(label: str, cells: list[dict[str, Any]], costs: list[Decimal]) -> dict[str, Any]:
    revenue, cost = add(ZERO, *(c["revenue"] for c in cells)), add(ZERO, *costs)
    changes = [c["change"] for c in cells]
    return {"plan": label, "customers": len(cells), "revenue": revenue, "cost": cost, "margin": revenue - cost,
            "margin_rate": ratio(revenue - cost, revenue),
            "customers_pay_more": sum(1 for d in changes if d > 0),
            "customers_pay_less": sum(1 for d in changes if d < 0),
            "customers_pay_same": sum(1 for d in changes if d == 0),
            "change_min": min(changes, default=None), "change_max": max(changes, default=None)}


def flat_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per customer: cost, then revenue / margin / change per plan (tables and CSV)."""
    out = []
    for r in result["customers"]:
        row: dict[str, Any] = {"customer": r["customer"], "cost": r["cost"], "unpriced_calls": r["unpriced_calls"]}
        for label in result["plans"]:
            cell = r["plans"][label]
            row.update({f"{label} revenue": cell["revenue"], f"{label} margin": cell["margin"],
                        f"{label} change": cell["change"]})
        out.append(row)
    return out


def write_csv(result: dict[str, Any], path: str | Path) -> None:
    """The per-customer table as CSV (decimal strings, exact)."""
    from workmeter.core.money import fmt

    rows = flat_rows(result)
    names = list(rows[0]) if rows else ["customer", "cost", "unpriced_calls"]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: fmt(v) if isinstance(v, Decimal) else v for k, v in row.items()})
