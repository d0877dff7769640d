"""The invoice engine: pure functions from plans and usage aggregates to lines.

For each segment of a period (one per plan version the customer was on):

1. phase-1 charges in plan order (flat fees, usage charges);
2. commitments on Σ usage lines of the segment (flat fees excluded), both
   prorated by day like flat fees: a ``maximum`` caps it (a negative
   ``maximum_commitment`` line), a ``minimum`` adds a ``minimum_commitment``
   true-up line of ``minimum − Σ usage`` when positive;
3. phase-2 charges (discounts), which see the lines above.

A regular invoice then subtracts the interim invoices already issued for the
period, and adds adjustment lines for earlier, finalized periods whose
recomputed charges differ from what was billed (late or corrected events):
``recomputed − billed`` per charge, so a finalized invoice never changes.
An interim invoice (progressive billing) carries the usage and cap lines of
the period so far, less what earlier interims of the period billed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from workmeter.billing.aggregates import SegmentUsage
from workmeter.billing.amounts import ZERO, add
from workmeter.billing.charges.base import ChargeContext, Line
from workmeter.billing.documents import unpriced_warning
from workmeter.billing.periods import Segment
from workmeter.billing.plans import PlanDef
from workmeter.core.money import fmt, round_money

INTERIM_KINDS = ("usage", "commitment")


@dataclass(frozen=True, slots=True)
class PlanSegment:
    segment: Segment
    plan: PlanDef
    version: int
    usage: SegmentUsage


def segment_lines(part: PlanSegment, currency: str) -> list[Line]:
    ctx = ChargeContext(currency, part.segment, part.usage)
    lines: list[Line] = []
    for charge in part.plan.charges:
        if charge.phase == 1:
            lines.extend(charge.lines(ctx))
    lines.extend(commitment_lines(part.plan, ctx, lines))
    later = ChargeContext(currency, part.segment, part.usage, tuple(lines))
    for charge in part.plan.charges:
        if charge.phase != 1:
            lines.extend(charge.lines(later))
    return lines


def commitment_lines(plan: PlanDef, ctx: ChargeContext, lines: Sequence[Line]) -> list[Line]:
    usage = add(*(ln.amount_exact for ln in lines if ln.kind == "usage"))
    out: list[Line] = []
    suffix = ctx.suffix()
    if plan.maximum is not None:
        cap = ctx.prorate(plan.maximum)
        if usage > cap:
            out.append(Line("maximum_commitment", f"Maximum commitment: usage capped at {fmt(cap)}{suffix}",
                            Decimal(1), cap - usage, cap - usage, "commitment"))
    if plan.minimum is not None:
        floor = ctx.prorate(plan.minimum)
        if usage < floor:
            out.append(Line("minimum_commitment",
                            f"Minimum commitment true-up: {fmt(floor)} − {fmt(usage)} usage{suffix}",
                            Decimal(1), floor - usage, floor - usage, "commitment"))
    return out


def period_lines(parts: Sequence[PlanSegment], currency: str) -> list[Line]:
    return [ln for part in parts for ln in segment_lines(part, currency)]


def charge_totals(lines: Iterable[Line], kinds: Sequence[str] | None = None) -> dict[str, Decimal]:
    """Σ amount_exact per charge key, in first-seen order."""
    out: dict[str, Decimal] = {}
    for ln in lines:
        if kinds is None or ln.kind in kinds:
            out[ln.charge] = add(out.get(ln.charge, ZERO), ln.amount_exact)
    return out


def interim_deductions(interims: Sequence[tuple[str, Decimal]]) -> list[Line]:
    """One negative line per interim invoice of the period (its subtotal, already rounded)."""
    return [Line("interim", f"Billed on interim invoice {number}", Decimal(1), -subtotal, -subtotal, "interim")
            for number, subtotal in interims]


def adjustment_lines(period_key: str, invoice: str, recomputed: Sequence[Line],
                     billed: dict[str, Decimal], currency: str = "USD") -> list[Line]:
    """``recomputed − billed`` per charge for an earlier, finalized period, in rounded amounts.

    Both sides are what an invoice shows (each line rounded once), so the
    finalized invoice plus its adjustments always equals the recomputed
    invoice to the cent: no drift from rounding an exact difference.
    """
    now: dict[str, Decimal] = {}
    for ln in recomputed:
        if ln.kind not in ("interim", "adjustment"):
            now[ln.charge] = add(now.get(ln.charge, ZERO), round_money(ln.amount_exact, currency))
    out = []
    for charge in [*now, *(c for c in billed if c not in now)]:
        diff = now.get(charge, ZERO) - billed.get(charge, ZERO)
        if diff != 0:
            out.append(Line(charge, f"Adjustment to {period_key}: {charge} (usage changed after invoice "
                                    f"{invoice})", Decimal(1), diff, diff, "adjustment", period_key))
    return out


def interim_lines(current: Sequence[Line], billed: dict[str, Decimal]) -> list[Line]:
    """Usage and cap lines so far, less what earlier interims of the period billed per charge."""
    out = []
    totals = charge_totals(current, INTERIM_KINDS)
    kinds = {ln.charge: ln.kind for ln in current if ln.kind in INTERIM_KINDS}
    for charge, amount in totals.items():
        diff = amount - billed.get(charge, ZERO)
        if diff != 0 and charge != "minimum_commitment":
            out.append(Line(charge, f"{charge}: usage to date, less earlier interim invoices", Decimal(1),
                            diff, diff, kinds[charge]))
    return out


def warnings(parts: Sequence[PlanSegment]) -> list[dict[str, object]]:
    events = 0
    reasons: dict[str, int] = {}
    for part in parts:
        n, why = part.usage.unpriced()
        events += n
        for reason, count in why.items():
            reasons[reason] = reasons.get(reason, 0) + count
    return [unpriced_warning(events, reasons)] if events else []
