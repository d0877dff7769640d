"""Rollups of tasks per workflow / team / customer / model / day / month.

A group holds tasks (by the task's own attributes; day and month of the
task's start, UTC). With ``scope="top"`` (the default) a group counts only
top-level tasks, each carrying the cost, tokens, value and billed outcomes of
its whole subtree; with ``scope="all"`` every task counts with its own usage
only. Either way each cost lands in exactly one group.

Metrics of a group (ratios per :mod:`workmeter.workunits.ratios`):

* ``tasks_started`` (every task of the group), ``tasks_completed``,
  ``tasks_failed``, ``tasks_abandoned`` (declared or inferred), ``tasks_running``;
* ``success_rate`` = completed / (completed + failed + abandoned);
* ``cost`` = Σ task cost; ``cost_per_completed_task`` (fully loaded) =
  ``cost`` / completed — failed and abandoned work is paid for by the
  completed work; ``naive_cost_per_completed_task`` = Σ cost of completed
  tasks / completed;
* ``tokens_per_completed_task`` = Σ tokens of every bucket of every task / completed;
* ``value`` = Σ declared outcome values (not reopened), ``roi`` = value / cost;
* ``outcomes_billed`` and, given an ``outcome_price``, ``revenue`` =
  outcomes_billed × price, ``margin`` = revenue − cost, ``margin_rate`` = margin / revenue.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

import duckdb

from workmeter.core.errors import InvalidInput
from workmeter.workunits.ratios import dec, ratio

Scope = Literal["top", "all"]

#: Group keys: name → SQL expression over ``_wm_tasks``.
DIMENSIONS: dict[str, str] = {
    "customer": "customer",
    "workflow": "workflow",
    "team": "team",
    "project": "project",
    "user": '"user"',
    "model": "model",
    "status": "status",
    "outcome": "outcome",
    "day": "strftime(started_at, '%Y-%m-%d')",
    "week": "strftime(date_trunc('week', started_at), '%Y-%m-%d')",
    "month": "strftime(started_at, '%Y-%m')",
}


def parse_by(by: str | Sequence[str]) -> list[str]:
    """``"workflow,month"`` → ``["workflow", "month"]``, every name checked."""
    names = [p.strip() for p in by.split(",")] if isinstance(by, str) else list(by)
    names = [n for n in names if n]
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise InvalidInput(f"unknown group key {unknown[0]!r}; choose from {', '.join(DIMENSIONS)}")
    return names


def scope_columns(scope: Scope) -> dict[str, str]:
    """The per-task measure columns a scope sums, and its row filter."""
    if scope == "top":
        cols = {m: f"{m}_total" for m in ("cost", "tokens", "value", "calls", "unpriced_calls", "outcomes_billed")}
        return {**cols, "where": "is_top"}
    if scope == "all":
        cols = {m: m for m in ("cost", "tokens", "value", "calls", "unpriced_calls", "outcomes_billed")}
        return {**cols, "where": "true"}
    raise InvalidInput(f"scope must be 'top' or 'all', got {scope!r}")


def window_sql() -> str:
    return "($start IS NULL OR started_at >= $start) AND ($end IS NULL OR started_at < $end)"


def rollup(con: duckdb.DuckDBPyConnection, by: Sequence[str], *, scope: Scope = "top",
           start: object = None, end: object = None, filters: dict[str, str] | None = None,
           outcome_price: Decimal | None = None) -> list[dict[str, Any]]:
    """Group ``_wm_tasks`` by ``by`` and compute every metric of the module docstring."""
    c = scope_columns(scope)
    keys = [f"{DIMENSIONS[k]} AS \"{k}\"" for k in by]
    where = [c["where"], window_sql()]
    params: dict[str, Any] = {"start": start, "end": end}
    for i, (name, value) in enumerate((filters or {}).items()):
        where.append(f"{DIMENSIONS[name]} = $f{i}")
        params[f"f{i}"] = value
    done = "status = 'completed'"
    sql = f"""
SELECT {", ".join([*keys, ""])}
       count(*) AS tasks_started,
       count(*) FILTER (WHERE {done}) AS tasks_completed,
       count(*) FILTER (WHERE status = 'failed') AS tasks_failed,
       count(*) FILTER (WHERE status = 'abandoned') AS tasks_abandoned,
       count(*) FILTER (WHERE status = 'running') AS tasks_running,
       sum({c["calls"]}) AS calls, sum({c["tokens"]}) AS tokens,
       sum({c["cost"]}) AS cost, coalesce(sum({c["cost"]}) FILTER (WHERE {done}), 0) AS completed_cost,
       sum({c["value"]}) AS value, sum({c["outcomes_billed"]}) AS outcomes_billed,
       sum({c["unpriced_calls"]}) AS unpriced_calls, sum(retries) AS retries
FROM _wm_tasks WHERE {" AND ".join(where)}
{"GROUP BY ALL ORDER BY ALL" if by else ""}"""
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return [_metrics(r, outcome_price) for r in rows if r["tasks_started"]]


def _metrics(row: dict[str, Any], outcome_price: Decimal | None) -> dict[str, Any]:
    done = row["tasks_completed"]
    finished = done + row["tasks_failed"] + row["tasks_abandoned"]
    cost, value = dec(row["cost"]), dec(row["value"])
    out = {k: v for k, v in row.items() if k != "completed_cost"}
    out.update(
        cost=cost, value=value, tokens=int(row["tokens"] or 0), calls=int(row["calls"] or 0),
        success_rate=ratio(done, finished),
        cost_per_completed_task=ratio(cost, done),
        naive_cost_per_completed_task=ratio(dec(row["completed_cost"]), done),
        tokens_per_completed_task=ratio(int(row["tokens"] or 0), done),
        roi=ratio(value, cost),
        outcomes_billed=int(row["outcomes_billed"] or 0),
        unpriced_calls=int(row["unpriced_calls"] or 0), retries=int(row["retries"] or 0),
    )
    if outcome_price is not None:
        revenue = outcome_price * out["outcomes_billed"]
        out.update(revenue=revenue, margin=revenue - cost, margin_rate=ratio(revenue - cost, revenue))
    return out
