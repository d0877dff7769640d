"""``package``: a price per started package of ``package_size`` units.

``packages = ceil(max(0, value − included) / package_size)``; 0 units bill
nothing, 1 unit bills one whole package.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal, localcontext

from workmeter.billing.amounts import mul
from workmeter.billing.charges import register_charge
from workmeter.billing.charges._metered import METERED_FIELDS, MeteredCharge
from workmeter.billing.charges.base import ChargeContext, Line, Spec
from workmeter.core.money import EXACT, fmt


@register_charge
class Package(MeteredCharge):
    type = "package"
    fields = METERED_FIELDS | {"package_size", "package_price"}

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.size = spec.decimal("package_size", positive=True)
        self.price = spec.decimal("package_price")

    def packages(self, units: Decimal) -> Decimal:
        with localcontext(EXACT):
            return (units / self.size).to_integral_value(rounding=ROUND_CEILING)

    def lines(self, ctx: ChargeContext) -> list[Line]:
        units = self.billable(ctx)
        count = self.packages(units)
        description = (f"{self.name} ({fmt(units)} {self.meter_key} in packages of {fmt(self.size)}"
                       f"{self.included_note()}){ctx.suffix()}")
        return [self.line(description, count, self.price, mul(count, self.price))]
