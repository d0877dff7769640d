"""``per_unit``: meter value (after the included allowance) × ``unit_price``."""

from __future__ import annotations

from workmeter.billing.amounts import mul
from workmeter.billing.charges import register_charge
from workmeter.billing.charges._metered import METERED_FIELDS, MeteredCharge
from workmeter.billing.charges.base import ChargeContext, Line, Spec


@register_charge
class PerUnit(MeteredCharge):
    type = "per_unit"
    fields = METERED_FIELDS | {"unit_price"}

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.unit_price = spec.decimal("unit_price")

    def lines(self, ctx: ChargeContext) -> list[Line]:
        qty = self.billable(ctx)
        description = f"{self.name} ({self.meter_key}{self.included_note()}){ctx.suffix()}"
        return [self.line(description, qty, self.unit_price, mul(qty, self.unit_price))]
