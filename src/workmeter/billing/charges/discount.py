"""``discount``: a percent or fixed reduction of other lines, optionally until a date.

* ``percent = "10"`` takes 10% off the lines it applies to; ``amount = "50.00"``
  takes a fixed amount off (prorated by day like a flat fee, and never more
  than those lines add up to).
* ``applies_to = ["platform_fee", "tokens"]`` names the charges it reduces;
  by default every flat, usage and commitment line of the plan.
* ``ends = 2026-12-31`` stops it at local midnight of that date: it covers the
  days of the segment before ``ends`` (a discount ending mid-period is
  prorated by day); from ``ends`` on, no line.

Discounts run after commitments, so a minimum commitment is measured on
undiscounted usage.
"""

from __future__ import annotations

from decimal import Decimal

from workmeter.billing.amounts import add, div, mul
from workmeter.billing.charges import register_charge
from workmeter.billing.charges._cost import HUNDRED, pct
from workmeter.billing.charges.base import Charge, ChargeContext, Line, Spec
from workmeter.core.money import fmt
from workmeter.meters.model import FieldError

_TARGET_KINDS = ("flat", "usage", "commitment")


@register_charge
class Discount(Charge):
    type = "discount"
    kind = "discount"
    phase = 2
    fields = frozenset({"percent", "amount", "applies_to", "ends"})

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        if spec.has("percent") == spec.has("amount"):
            raise FieldError("percent", "a discount takes exactly one of percent or amount")
        self.percent = spec.decimal("percent") if spec.has("percent") else None
        if self.percent is not None and self.percent > HUNDRED:
            raise FieldError("percent", f"must be at most 100, not {fmt(self.percent)}")
        self.amount = spec.decimal("amount") if spec.has("amount") else None
        self.applies_to = spec.str_list("applies_to")
        self.ends = spec.day("ends")

    def covered_days(self, ctx: ChargeContext) -> int:
        seg = ctx.segment
        if self.ends is None:
            return seg.days
        return max(0, (min(self.ends, seg.after) - seg.first).days)

    def lines(self, ctx: ChargeContext) -> list[Line]:
        days = self.covered_days(ctx)
        targets = [ln for ln in ctx.prior if ln.kind in _TARGET_KINDS
                   and (not self.applies_to or ln.charge in self.applies_to)]
        base = add(*(ln.amount_exact for ln in targets))
        if days <= 0 or base <= 0:
            return []
        until = f" until {self.ends.isoformat()}" if self.ends else ""
        if self.percent is not None:  # one division, so 31% × 10/31 days stays exact
            off = div(mul(base, self.percent, Decimal(days)), mul(HUNDRED, Decimal(ctx.segment.days)))
            return [self.line(f"{self.name} ({pct(self.percent)}{until}){ctx.suffix()}", base,
                              -div(self.percent, HUNDRED), -off)]
        assert self.amount is not None
        fixed = div(mul(self.amount, Decimal(days)), Decimal(ctx.segment.period.days))
        off = min(fixed, base)
        return [self.line(f"{self.name} (fixed{until}){ctx.suffix()}", Decimal(1), -off, -off)]
