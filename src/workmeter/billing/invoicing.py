"""Drafting invoices for one customer or all of them in one set-based pass.

1. Load subscriptions, finalized-invoice history and credit grants for the
   customers (one query each).
2. Cut each customer's period — and each earlier period with a finalized
   invoice inside the late-event lookback — into plan segments.
3. Collect usage for every segment at once (:mod:`workmeter.billing.collect`).
4. Per customer, in Python on the small aggregates: lines, interim
   deductions, adjustments for earlier periods, warnings, credits.

The late-event lookback (default 12 periods) bounds how far back events that
arrive after finalization are found and billed as adjustments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from workmeter.billing.charges.base import Line
from workmeter.billing.collect import SegmentRow, collect
from workmeter.billing.credits import Credits, Grant, allocate
from workmeter.billing.customers import Customer
from workmeter.billing.documents import Draft
from workmeter.billing.engine import (
    PlanSegment,
    adjustment_lines,
    interim_deductions,
    interim_lines,
    period_lines,
    warnings,
)
from workmeter.billing.invoices import History, Invoices
from workmeter.billing.periods import Period, month_period, to_utc
from workmeter.billing.plan_store import Plans
from workmeter.billing.plans import PlanDef
from workmeter.billing.subscriptions import Subscriptions, period_segments
from workmeter.meters.model import MeterDef
from workmeter.meters.service import MeterService
from workmeter.store.duckdb import Database


@dataclass
class Gathered:
    """One customer's inputs: the period's plan segments, earlier finalized periods, history."""

    customer: Customer
    period: Period
    parts: list[PlanSegment] = field(default_factory=list)
    prior: dict[str, list[PlanSegment]] = field(default_factory=dict)
    history: History = field(default_factory=History)
    grants: list[Grant] = field(default_factory=list)


def plan_meters(plan: PlanDef) -> tuple[MeterDef, ...]:
    keys = sorted({k for c in plan.charges for k in c.meters()})
    return tuple(plan.meter(k) for k in keys)


class Drafter:
    def __init__(self, db: Database, plans: Plans, subscriptions: Subscriptions, credits: Credits,
                 invoices: Invoices, meters: MeterService, rated_view: Callable[[], str | None],
                 lookback: int = 12) -> None:
        self.db, self.plans, self.subscriptions = db, plans, subscriptions
        self.credits, self.invoices, self.meters = credits, invoices, meters
        self.rated_view = rated_view
        self.lookback = lookback

    def gather(self, periods: dict[str, Period], customers: Sequence[Customer], scope: Sequence[str] | None,
               with_prior: bool = True, detail: bool = True) -> list[Gathered]:
        """Inputs of every customer; ``scope`` None loads all customers' records in each query.

        ``detail`` collects cost per bucket (for statements); bulk runs skip it.
        """
        if not customers:
            return []
        spans = self.subscriptions.spans(scope)
        first = min(p.key for p in periods.values())
        since = _back(first, self.lookback) if with_prior else first
        single = len({p.key for p in periods.values()}) == 1
        history = self.invoices.history(scope, since, exclude_adjustments_of=first if single else None)
        grants = self.credits.grants(scope)
        out, rows, slots = [], [], []
        for c in customers:
            g = Gathered(c, periods[c.id], history=history.get(c.id) or History(), grants=grants.get(c.id, []))
            targets = [g.period]
            if with_prior:
                targets += [month_period(q, c.timezone) for q in sorted(g.history.regular)
                            if since <= q < g.period.key]
            for period in targets:
                for idx, (seg, span) in enumerate(period_segments(spans.get(c.id, []), period)):
                    plan = self.plans.get(span.plan_key, span.plan_version)
                    rows.append(SegmentRow(c.id, period.key, idx, to_utc(seg.start), to_utc(seg.end),
                                           plan_meters(plan)))
                    slots.append((g, period.key, idx, seg, plan, span.plan_version))
            out.append(g)
        sources = sorted({s for slot in slots for c in slot[4].charges for s in c.sources()})
        usage = collect(self.db.read(), rows, sources, self.rated_view(), self.meters.source_for, detail)
        for g, key, idx, seg, plan, version in slots:
            _parts(g, key).append(PlanSegment(seg, plan, version, usage[(g.customer.id, key, idx)]))
        return out

    def regular(self, g: Gathered, as_of: datetime) -> Draft:
        c, period, h = g.customer, g.period, g.history
        lines = period_lines(g.parts, c.currency)
        lines += interim_deductions(h.interims.get(period.key, []))
        for q in sorted(g.prior):
            recomputed = period_lines(g.prior[q], c.currency)
            lines += adjustment_lines(q, h.regular[q], recomputed, h.billed.get(q, {}), c.currency)
        draft = self._draft(g, lines, "regular")
        draft.burns, _ = allocate(g.grants, draft.subtotal, period.start, as_of)
        return draft

    def interim(self, g: Gathered, as_of: datetime) -> Draft | None:
        """The interim invoice due now, if unbilled usage reached the plan's threshold."""
        key = g.period.key
        active = [p for p in g.parts if p.plan.threshold is not None]
        if key in g.history.regular or not active:
            return None
        threshold = active[-1].plan.threshold
        assert threshold is not None
        lines = interim_lines(period_lines(g.parts, g.customer.currency), g.history.interim_billed.get(key, {}))
        draft = self._draft(g, lines, "interim")
        if draft.subtotal < threshold:
            return None
        draft.burns, _ = allocate(g.grants, draft.subtotal, g.period.start, as_of)
        return draft

    def _draft(self, g: Gathered, lines: list[Line], kind: str) -> Draft:
        versions = sorted({v for p in g.parts for v in p.usage.catalog_versions})
        plans = [{"plan": p.plan.key, "version": p.version, "from": p.segment.first.isoformat(),
                  "to": p.segment.after.isoformat()} for p in g.parts]
        return Draft(g.customer.id, g.customer.currency, g.period, lines, kind, warnings(g.parts), [],
                     versions, plans)


def _parts(g: Gathered, key: str) -> list[PlanSegment]:
    return g.parts if key == g.period.key else g.prior.setdefault(key, [])


def _back(key: str, months: int) -> str:
    period = month_period(key, "UTC")
    for _ in range(months):
        period = period.previous()
    return period.key
