"""``WorkService``: the work-unit reports over one database.

Each call opens its own reader cursor, derives the task state set-based into
connection-local temp tables (:mod:`.sources` → :mod:`.outcomes` →
:mod:`.tasks`) and answers from them; nothing is cached between calls, so
a report always reflects the ledger (and its corrections) as of ``as_of``.
``as_of`` defaults to now, or to the newest event when events are dated later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from workmeter.core.errors import NotFound
from workmeter.rating.aggregate import snapshot
from workmeter.store.duckdb import Database
from workmeter.workunits import outcomes as oc
from workmeter.workunits.plan_rules import RuleRow, plan_rules
from workmeter.workunits.prices import attach_cache_prices
from workmeter.workunits.ratios import dec
from workmeter.workunits.rollups import Scope, parse_by, rollup, window_sql
from workmeter.workunits.settings import OutcomeRule, WorkSettings
from workmeter.workunits.sources import (
    USAGE_SOURCE,
    default_as_of,
    instant,
    load_task_events,
    load_usage,
    prompt_calls_sql,
)
from workmeter.workunits.tasks import build_tasks
from workmeter.workunits.trends import check_period, trend_rows
from workmeter.workunits.usage import ledger_relation
from workmeter.workunits.waste import find_waste

#: Columns of :meth:`WorkService.tasks` rows, in order.
TASK_FIELDS: tuple[str, ...] = (
    "customer", "task_id", "workflow", "team", "project", "user", "parent_task_id", "root_task_id", "is_top",
    "status", "abandoned_inferred", "started_at", "ended_at", "duration_s", "calls", "input", "cache_read",
    "cache_write_5m", "cache_write_1h", "output", "reasoning", "web_search", "tokens", "cost", "unpriced_calls",
    "retries", "models", "model", "outcome", "outcome_confirmed", "value", "outcomes_billed", "subtasks",
    "calls_total", "tokens_total", "cost_total", "unpriced_calls_total", "value_total",
)


@dataclass(frozen=True, slots=True)
class Run:
    """One report run: its cursor (holding the temp tables) and its source parameters."""

    con: duckdb.DuckDBPyConnection
    params: dict[str, Any]


class WorkService:
    def __init__(self, db: Database, settings: WorkSettings | None = None, usage_source: str = USAGE_SOURCE,
                 prepare: Callable[[], object] | None = None, billing: Callable[[], Any] | None = None) -> None:
        """``prepare`` runs before every report that reads usage (the composition root passes the
        rater's refresh, so usage of a model key never seen before is rated, not "not rated yet");
        ``billing`` gives the billing service the simulator prices plans with."""
        self.db = db
        self.settings = settings or WorkSettings()
        self.usage_source = usage_source
        self.prepare = prepare
        self.billing = billing

    # -- plumbing -------------------------------------------------------------------------
    @contextmanager
    def session(self, *, customer: str | None = None, as_of: object = None, usage: bool = True,
                settings: WorkSettings | None = None, by_model: bool = True,
                materialize: bool = True, explicit: str | None = None) -> Iterator[Run]:
        """A cursor holding ``_wm_tev``, the outcome tables and (with ``usage``) ``_wm_tasks``.

        Every table is derived in one snapshot of the ledger. Without ``by_model`` usage is
        summed per task only (cheaper) and the tasks' ``models`` and ``model`` are NULL.
        Outcomes follow the customers' plan rules (:mod:`.plan_rules`), except for the outcome
        type ``explicit``, whose rule the caller put in ``settings``."""
        st = settings or self.settings
        if usage and self.prepare is not None:
            self.prepare()
        rules = self.customer_rules(customer, explicit)
        con = self.db.read()
        try:
            at = instant(as_of, "as_of") if as_of is not None else default_as_of(con)
            with snapshot(con):
                params = {"as_of": at, "customer": customer, "currency": st.currency}
                ledger = ledger_relation(con)
                load_task_events(con, params, ledger)
                oc.build_outcomes(con, st, at, ledger, rules)
                if usage:
                    load_usage(con, params, self.usage_source, ledger=ledger, by_model=by_model)
                    build_tasks(con, params=params, abandon_after_seconds=st.abandon_after_seconds, ledger=ledger,
                                by_model=by_model, materialize=materialize)
            yield Run(con, params)
        finally:
            con.close()

    def customer_rules(self, customer: str | None = None, explicit: str | None = None) -> list[RuleRow]:
        """The outcome rules of the customers' plans (none without the billing service)."""
        if self.billing is None:
            return []
        rows = plan_rules(self.billing())
        return [r for r in rows if (customer is None or r[0] == customer) and r[1] != explicit]

    # -- tasks and rollups ----------------------------------------------------------------
    def tasks(self, *, workflow: str | None = None, customer: str | None = None, status: str | None = None,
              start: object = None, end: object = None, as_of: object = None, top_only: bool = False,
              limit: int | None = None) -> list[dict[str, Any]]:
        """One row per task (fields :data:`TASK_FIELDS`), newest start first."""
        where = [window_sql(), "($workflow IS NULL OR workflow = $workflow)", "($status IS NULL OR status = $status)"]
        if top_only:
            where.append("is_top")
        cols = ", ".join(f'"{c}"' for c in TASK_FIELDS)
        sql = (f"SELECT {cols} FROM _wm_tasks WHERE {' AND '.join(where)} "
               f"ORDER BY started_at DESC, customer, task_id {'LIMIT ' + str(int(limit)) if limit else ''}")
        with self.session(customer=customer, as_of=as_of) as run:
            rows = run.con.execute(sql, {"start": instant(start, "start"), "end": instant(end, "end"),
                                     "workflow": workflow, "status": status}).fetchall()
        out = [dict(zip(TASK_FIELDS, r, strict=True)) for r in rows]
        for row in out:  # seconds between two microsecond instants: to the microsecond, no float noise
            if row["duration_s"] is not None:
                row["duration_s"] = round(row["duration_s"], 6)
        return out

    def work(self, by: str | Sequence[str] = "workflow", *, scope: Scope = "top", customer: str | None = None,
             workflow: str | None = None, start: object = None, end: object = None, as_of: object = None,
             outcome_price: Decimal | None = None) -> list[dict[str, Any]]:
        """Rollup rows (see :mod:`workmeter.workunits.rollups`)."""
        keys = parse_by(by)
        filters = {"workflow": workflow} if workflow else None
        with self.session(customer=customer, as_of=as_of, by_model="model" in keys, materialize=False) as run:
            return rollup(run.con, keys, scope=scope, start=instant(start, "start"), end=instant(end, "end"),
                          filters=filters, outcome_price=outcome_price)

    def roi(self, by: str | Sequence[str] = "workflow", **kwargs: Any) -> list[dict[str, Any]]:
        """Value against cost per group: value, cost, net value, ROI (and margin with ``outcome_price``)."""
        keys = parse_by(by)
        fields = [*keys, "tasks_completed", "outcomes_billed", "value", "cost", "net_value", "roi",
                  "cost_per_completed_task"]
        rows = self.work(keys, **kwargs)
        out = []
        for r in rows:
            r["net_value"] = r["value"] - r["cost"]
            extra = [k for k in ("revenue", "margin", "margin_rate") if k in r]
            out.append({k: r[k] for k in [*fields, *extra]})
        return out

    def totals(self, *, customer: str | None = None, as_of: object = None) -> dict[str, Any]:
        """Conservation check: total rated cost = Σ top-level task cost + unattributed cost."""
        with self.session(customer=customer, as_of=as_of, by_model=False) as run:
            total, unattributed, unpriced = run.con.execute(
                "SELECT coalesce(sum(cost), 0), coalesce(sum(cost) FILTER (WHERE task_id IS NULL), 0), "
                "coalesce(sum(unpriced_calls), 0) FROM _wm_um").fetchone() or (0, 0, 0)
            tasks = run.con.execute(
                "SELECT coalesce(sum(cost_total), 0), count(*) FROM _wm_tasks WHERE is_top").fetchone()
        assert tasks is not None
        return {"total_cost": dec(total), "task_cost": dec(tasks[0]), "unattributed_cost": dec(unattributed),
                "top_level_tasks": int(tasks[1]), "unpriced_calls": int(unpriced)}

    def waste(self, by: str | Sequence[str] = (), *, customer: str | None = None, start: object = None,
              end: object = None, as_of: object = None) -> list[dict[str, Any]]:
        """Waste findings ranked by estimated saving (see :mod:`workmeter.workunits.waste`)."""
        keys = parse_by(by) if by else []
        with self.session(customer=customer, as_of=as_of) as run:
            params = {k: run.params[k] for k in ("as_of", "customer")}
            run.con.execute(prompt_calls_sql(self.usage_source), params)
            attach_cache_prices(run.con)
            return find_waste(run.con, self.settings.waste, by=keys, start=instant(start, "start"),
                              end=instant(end, "end"))

    def trends(self, by: str | Sequence[str] = "workflow", *, period: str = "month", customer: str | None = None,
               start: object = None, end: object = None, as_of: object = None) -> list[dict[str, Any]]:
        """Token vs completed-work vs value growth per group and period (see :mod:`.trends`)."""
        keys = [k for k in parse_by(by) if k not in ("day", "week", "month")]
        rows = self.work([*keys, check_period(period)], customer=customer, start=start, end=end, as_of=as_of)
        return trend_rows(rows, keys, period, self.settings.trend_tolerance)

    # -- outcomes -------------------------------------------------------------------------
    def _outcome_settings(self, outcome: str | None, rule: OutcomeRule | None) -> WorkSettings:
        if rule is None or outcome is None:
            return self.settings
        return self.settings.with_rule(outcome, rule)

    def billable_outcomes(self, customer: str | None, start: object, end: object, *, outcome: str | None = None,
                          rule: OutcomeRule | None = None, as_of: object = None) -> list[oc.OutcomeLine]:
        """Outcomes billable in ``[start, end)`` for a customer (``None``: all customers)."""
        st = self._outcome_settings(outcome, rule)
        with self.session(customer=customer, as_of=as_of, usage=False, settings=st,
                          explicit=outcome if rule is not None else None) as run:
            return oc.billable_outcomes(run.con, instant(start, "start"), instant(end, "end"), outcome)

    def clawbacks(self, customer: str | None, start: object, end: object, *, outcome: str | None = None,
                  rule: OutcomeRule | None = None, as_of: object = None) -> list[oc.OutcomeLine]:
        """Reopens in ``[start, end)`` of outcomes billed in an earlier period."""
        st = self._outcome_settings(outcome, rule)
        with self.session(customer=customer, as_of=as_of, usage=False, settings=st,
                          explicit=outcome if rule is not None else None) as run:
            return oc.clawbacks(run.con, instant(start, "start"), instant(end, "end"), outcome)

    def outcome_timeline(self, *, customer: str | None = None, start: object = None, end: object = None,
                         as_of: object = None) -> list[dict[str, Any]]:
        """Every bill and clawback (after the once-per-task rule), oldest first."""
        sql = ("SELECT customer, task_id, outcome, kind, occurred_at, billed_at, clawed_back_at, value FROM _wm_otl "
               "WHERE ($start IS NULL OR occurred_at >= $start) AND ($end IS NULL OR occurred_at < $end) "
               "ORDER BY occurred_at, customer, task_id")
        with self.session(customer=customer, as_of=as_of, usage=False) as run:
            cur = run.con.execute(sql, {"start": instant(start, "start"), "end": instant(end, "end")})
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    # -- pricing simulator ----------------------------------------------------------------
    def simulate(self, plans: Sequence[str | Path], period: str, *,
                 customers: Sequence[str] | None = None) -> dict[str, Any]:
        """Each customer's bill and margin under each plan file (see :mod:`workmeter.workunits.simulate`)."""
        from workmeter.workunits.simulate import Inputs, simulate

        if self.billing is None:
            raise NotFound("the pricing simulator needs the billing service")
        billing = self.billing()
        inputs = Inputs(billing.meters.source_for, billing.drafter.rated_view,
                        {c.id: c.timezone for c in billing.customers.all()})
        con = self.db.read()
        try:
            return simulate(con, inputs, plans, period, customers)
        finally:
            con.close()
