"""The demo's report steps after ingest: cost, unpriced usage, invoices, work done, waste, simulation.

Each step uses the same services the CLI and the API use, on the demo month.
Billing runs on plans shipped beside this module (``plans/*.toml``): every
demo customer is subscribed to one of them, so the invoices show flat fees,
markups, graduated tiers, commitments and per-outcome charges together.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from workmeter.demo.steps import DemoRun, Result, demo_step
from workmeter.demo.world import customer_names

PLANS_DIR = Path(__file__).with_name("plans")
#: Which plan each demo customer is on, round-robin (flat.toml is only simulated).
SUBSCRIBED = ("tokens", "hybrid", "work")


@demo_step("cost", "cost by provider and model (exact, by the date of use)", 30,
           columns=("provider", "model", "events", "cost", "unpriced_events"))
def _cost(run: DemoRun) -> Result:
    rows = run.app.usage("provider,model", run.start, run.end)
    return sorted(rows, key=lambda r: -Decimal(r["cost"] or 0))[: run.top]  # cost is None when unpriced


@demo_step("unpriced", "unpriced usage by reason (reported, never $0)", 35)
def _unpriced(run: DemoRun) -> Result:
    return run.app.rater.unpriced(run.start, run.end)[: run.top]


@demo_step("invoices", "draft invoices for the month (top customers by total)", 40,
           columns=("customer", "name", "plan", "lines", "subtotal", "total"))
def _invoices(run: DemoRun) -> Result:
    billing = run.app.billing
    billing.apply_plans(sorted(PLANS_DIR.glob("*.toml")))
    names = customer_names(max(run.customers, 1))
    plan_of: dict[str, str] = {}
    known = {c.id for c in billing.customers.all()}
    for i, (cid, name) in enumerate(sorted(names.items())):
        plan_of[cid] = SUBSCRIBED[i % len(SUBSCRIBED)]
        if cid not in known:
            billing.add_customer(cid, name)
            billing.subscribe(cid, plan_of[cid], run.start.date())
    invoices = billing.run(f"{run.start:%Y-%m}")
    rows = [{"customer": inv["customer"], "name": names.get(inv["customer"], ""),
             "plan": plan_of.get(inv["customer"], ""), "lines": len(inv["lines"]),
             "subtotal": inv["subtotal"], "total": inv["total"]} for inv in invoices]
    return sorted(rows, key=lambda r: -Decimal(r["total"]))[: run.top]


@demo_step("work", "work done per workflow: cost per completed task, fully loaded", 50,
           columns=("workflow", "tasks_started", "tasks_completed", "tasks_failed", "tasks_abandoned",
                    "cost", "cost_per_completed_task", "naive_cost_per_completed_task", "value", "roi"))
def _work(run: DemoRun) -> Result:
    return run.app.work.work("workflow", start=run.start, end=run.end)


@demo_step("waste", "waste ranked in dollars (estimated saving)", 60,
           columns=("kind", "workflow", "detail", "estimated_saving", "tasks", "examples"))
def _waste(run: DemoRun) -> Result:
    rows = run.app.work.waste("workflow", start=run.start, end=run.end)[: run.top]
    for r in rows:
        if isinstance(r.get("examples"), list):
            r["examples"] = ", ".join(str(x) for x in r["examples"][:2])
    return rows


@demo_step("simulate", "pricing simulator: the month under each plan (revenue and margin over rated cost)", 70,
           columns=("plan", "revenue", "cost", "margin", "margin_rate", "customers_pay_more",
                    "customers_pay_less", "change_min", "change_max"))
def _simulate(run: DemoRun) -> Result:
    result = run.app.work.simulate(sorted(PLANS_DIR.glob("*.toml")), f"{run.start:%Y-%m}")
    summary: list[dict[str, object]] = result["summary"]
    return summary
