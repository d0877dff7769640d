"""Work-unit commands: tasks, work, roi, waste, trends, outcomes, simulate.

Every command reads ``Workmeter.work`` (:class:`workmeter.workunits.WorkService`);
money and ratios print as exact decimal strings with ``--json``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from workmeter.core.money import to_decimal
from workmeter.interfaces.cli.common import err_console, print_json, report, state, want_json

_FROM = typer.Option(None, "--from", help="Tasks started at or after (date or RFC 3339 time).")
_TO = typer.Option(None, "--to", help="Tasks started before (date or RFC 3339 time).")
_AS_OF = typer.Option(None, "--as-of", help="Judge inactivity and pending outcomes at this instant (default now).")
_CUSTOMER = typer.Option(None, "--customer", help="Only this customer.")
_JSON = typer.Option(False, "--json")

TASK_TABLE = ("task_id", "customer", "workflow", "status", "started_at", "duration_s", "calls_total",
              "tokens_total", "cost_total", "retries", "model", "outcome", "value")
WORK_TABLE = ("tasks_started", "tasks_completed", "tasks_failed", "tasks_abandoned", "success_rate", "cost",
              "cost_per_completed_task", "naive_cost_per_completed_task", "tokens_per_completed_task", "value", "roi")


def register(app: typer.Typer) -> None:
    for name, fn in (("tasks", tasks), ("work", work), ("roi", roi), ("waste", waste), ("trends", trends),
                     ("outcomes", outcomes), ("simulate", simulate)):
        app.command(name)(fn)


def _price(text: str | None) -> Decimal | None:
    return to_decimal(text, field="--outcome-price") if text else None


def tasks(ctx: typer.Context, workflow: str = typer.Option(None, "--workflow"), customer: str = _CUSTOMER,
          status: str = typer.Option(None, "--status", help="completed | failed | abandoned | running"),
          top: bool = typer.Option(False, "--top", help="Only top-level tasks."),
          limit: int = typer.Option(None, "--limit"), start: str = _FROM, end: str = _TO, as_of: str = _AS_OF,
          json_out: bool = _JSON) -> None:
    """One row per task: status, duration, calls, tokens, cost (with subtasks), retries, models, outcome, value."""
    rows = state(ctx).app().work.tasks(workflow=workflow, customer=customer, status=status, start=start,
                                       end=end, as_of=as_of, top_only=top, limit=limit)
    report(ctx, rows, json_flag=json_out, columns=None if want_json(ctx, json_out) else TASK_TABLE, title="tasks")


def work(ctx: typer.Context, by: str = typer.Option("workflow", "--by", help="customer,workflow,team,project,"
                                                                              "user,model,status,outcome,day,week,month"),
         scope: str = typer.Option("top", "--scope", help="top: top-level tasks with their subtasks' cost; "
                                                          "all: every task with its own cost."),
         customer: str = _CUSTOMER, workflow: str = typer.Option(None, "--workflow"),
         outcome_price: str = typer.Option(None, "--outcome-price", help="Price per billed outcome: adds "
                                                                         "revenue, margin, margin_rate."),
         start: str = _FROM, end: str = _TO, as_of: str = _AS_OF, json_out: bool = _JSON) -> None:
    """Tasks started / completed / failed / abandoned, cost per completed task (fully loaded and naive), ROI."""
    rows = state(ctx).app().work.work(by, scope=scope, customer=customer, workflow=workflow, start=start,
                                      end=end, as_of=as_of, outcome_price=_price(outcome_price))
    keys = [k.strip() for k in by.split(",") if k.strip()]
    report(ctx, rows, json_flag=json_out, columns=None if want_json(ctx, json_out) else [*keys, *WORK_TABLE],
           title="work")


def roi(ctx: typer.Context, by: str = typer.Option("workflow", "--by"), customer: str = _CUSTOMER,
        outcome_price: str = typer.Option(None, "--outcome-price"), start: str = _FROM, end: str = _TO,
        as_of: str = _AS_OF, json_out: bool = _JSON) -> None:
    """Value against cost per group: value, cost, net value, ROI = value / cost (and margin per outcome)."""
    rows = state(ctx).app().work.roi(by, customer=customer, start=start, end=end, as_of=as_of,
                                     outcome_price=_price(outcome_price))
    report(ctx, rows, json_flag=json_out, title="roi")


def waste(ctx: typer.Context, by: str = typer.Option(None, "--by", help="customer,workflow,team,project"),
          customer: str = _CUSTOMER, start: str = _FROM, end: str = _TO, as_of: str = _AS_OF,
          json_out: bool = _JSON) -> None:
    """Waste ranked in dollars, each finding with its estimated saving and example task ids."""
    rows = state(ctx).app().work.waste(by or (), customer=customer, start=start, end=end, as_of=as_of)
    if not want_json(ctx, json_out):
        rows = [{k: v for k, v in r.items() if k != "description"} | {"examples": ", ".join((r["examples"] or [])[:3])}
                for r in rows]
    report(ctx, rows, json_flag=json_out, title="waste")


def trends(ctx: typer.Context, by: str = typer.Option("workflow", "--by"),
           period: str = typer.Option("month", "--period", help="day | week | month"), customer: str = _CUSTOMER,
           start: str = _FROM, end: str = _TO, as_of: str = _AS_OF, json_out: bool = _JSON) -> None:
    """Token growth vs completed-work growth vs value growth; flags where tokens grow and work does not."""
    rows = state(ctx).app().work.trends(by, period=period, customer=customer, start=start, end=end, as_of=as_of)
    report(ctx, rows, json_flag=json_out, title="vanity vs value")


def outcomes(ctx: typer.Context, customer: str = _CUSTOMER, start: str = typer.Option(None, "--from"),
             end: str = typer.Option(None, "--to"), as_of: str = _AS_OF, json_out: bool = _JSON) -> None:
    """Outcome bills and clawbacks (once per task; assumed after inactivity; reopen claws back)."""
    rows = state(ctx).app().work.outcome_timeline(customer=customer, start=start, end=end, as_of=as_of)
    report(ctx, rows, json_flag=json_out, title="outcomes")


def simulate(ctx: typer.Context, plans: list[Path] = typer.Argument(..., help="Plan files (TOML)."),
             _plans_flag: bool = typer.Option(False, "--plans", help="Optional marker: the plan files follow."),
             period: str = typer.Option(..., "--period", help="Month like 2026-10."),
             customer: list[str] = typer.Option(None, "--customer", help="Only these customers."),
             csv_file: Path = typer.Option(None, "--csv", help="Also write the per-customer table as CSV."),
             json_out: bool = _JSON) -> None:
    """What each customer would pay, and the margin over rated cost, under each plan."""
    from workmeter.workunits.simulate import flat_rows, write_csv

    result: dict[str, Any] = state(ctx).app().work.simulate(plans, period, customers=customer or None)
    if csv_file is not None:
        write_csv(result, csv_file)
        err_console.print(f"wrote {csv_file}")
    if want_json(ctx, json_out):
        print_json(result)
        return
    report(ctx, flat_rows(result), title=f"simulation {period} (baseline: {result['baseline']})")
    report(ctx, result["summary"], title="summary")
