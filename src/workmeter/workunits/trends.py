"""Vanity vs value: does token spend grow with completed work and value?

For each group (default: workflow) and period (day / week / month of the
task's start), from the rollup rows (top-level tasks with their subtrees):
``tokens``, ``tasks_completed``, ``value``, ``cost`` and their growth against
the *immediately preceding* period of the same group (``None`` when that
period has no tasks): ``tokens_growth``, ``completed_growth``, ``value_growth``,
``cost_growth``, plus ``tokens_per_completed_task``.

A row is flagged ``vanity`` when tokens grew by more than the tolerance
(:attr:`WorkSettings.trend_tolerance`, default 5 %) while completed work did
not (completed growth at most the tolerance; from zero completed tasks to
some counts as growth).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from workmeter.core.errors import InvalidInput
from workmeter.workunits.ratios import growth

PERIODS: tuple[str, ...] = ("day", "week", "month")
FIELDS: tuple[str, ...] = ("tokens", "tasks_completed", "value", "cost")


def previous_period(period: str, label: str) -> str:
    """The label of the period before ``label`` (``2026-10`` → ``2026-09``)."""
    if period == "month":
        y, m = (int(x) for x in label.split("-"))
        return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"
    step = timedelta(days=7 if period == "week" else 1)
    return (date.fromisoformat(label) - step).isoformat()


def check_period(period: str) -> str:
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    return period


def trend_rows(rows: Sequence[dict[str, Any]], keys: Sequence[str], period: str,
               tolerance: Decimal) -> list[dict[str, Any]]:
    """Add growth and the vanity flag to rollup rows grouped by ``keys`` + ``period``."""
    index = {(*(r[k] for k in keys), r[period]): r for r in rows}
    out = []
    for r in rows:
        prev = index.get((*(r[k] for k in keys), previous_period(period, r[period])))
        row: dict[str, Any] = {k: r[k] for k in keys}
        row["period"] = r[period]
        row.update({f: r[f] for f in FIELDS})
        row["tokens_per_completed_task"] = r["tokens_per_completed_task"]
        for f, name in (("tokens", "tokens_growth"), ("tasks_completed", "completed_growth"),
                        ("value", "value_growth"), ("cost", "cost_growth")):
            row[name] = growth(r[f], prev[f]) if prev else None
        tg, cg = row["tokens_growth"], row["completed_growth"]
        work_grew = (cg is not None and cg > tolerance) or bool(
            prev and prev["tasks_completed"] == 0 and r["tasks_completed"] > 0)
        row["vanity"] = bool(tg is not None and tg > tolerance and not work_grew)
        out.append(row)
    return out
