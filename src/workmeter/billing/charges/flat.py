"""``flat``: a fixed fee per period.

``billing = "in_advance"`` (default) or ``"in_arrears"``: both are carried by
the invoice of the period they cover (an in-advance fee already shows on the
period's draft from its first day). When a subscription covers only part of
the period (it starts, ends or changes plan mid-period) the fee is prorated
by day: ``amount × covered days / days in period``, unless ``prorate = false``.
"""

from __future__ import annotations

from decimal import Decimal

from workmeter.billing.charges import register_charge
from workmeter.billing.charges.base import Charge, ChargeContext, Line, Spec

_BILLING = ("in_advance", "in_arrears")


@register_charge
class Flat(Charge):
    type = "flat"
    kind = "flat"
    fields = frozenset({"amount", "billing", "prorate"})

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.amount = spec.decimal("amount")
        self.billing = spec.choice("billing", _BILLING, "in_advance")
        self.prorate = spec.boolean("prorate", True)

    def lines(self, ctx: ChargeContext) -> list[Line]:
        when = "in advance" if self.billing == "in_advance" else "in arrears"
        if not self.prorate or ctx.segment.full:
            return [self.line(f"{self.name} ({when})", Decimal(1), self.amount, self.amount)]
        seg = ctx.segment
        description = f"{self.name} ({when}, {seg.days} of {seg.period.days} days: {seg.label()})"
        return [self.line(description, ctx.fraction, self.amount, ctx.prorate(self.amount))]
