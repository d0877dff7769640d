"""``volume``: every unit is priced by the one tier the total falls in.

Upper bounds are inclusive: with tiers up to 1,000 at 0.01 then 0.008, 1,000
units bill 10.00 and 1,001 units bill 8.008. A tier's ``flat_price`` is added
when the total falls in it; no usage bills nothing.
"""

from __future__ import annotations

from decimal import Decimal

from workmeter.billing.amounts import ZERO, add, mul
from workmeter.billing.charges import register_charge
from workmeter.billing.charges._metered import MeteredCharge
from workmeter.billing.charges._tiers import TIERED_FIELDS, Tier, parse_tiers
from workmeter.billing.charges.base import ChargeContext, Line, Spec


def volume_tier(units: Decimal, tiers: tuple[Tier, ...]) -> Tier:
    for tier in tiers:
        if tier.up_to is None or units <= tier.up_to:
            return tier
    return tiers[-1]


def volume_amount(units: Decimal, tiers: tuple[Tier, ...]) -> Decimal:
    if units <= 0:
        return ZERO
    tier = volume_tier(units, tiers)
    return add(mul(units, tier.unit_price), tier.flat_price)


@register_charge
class Volume(MeteredCharge):
    type = "volume"
    fields = TIERED_FIELDS

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.tiers = parse_tiers(spec)

    def lines(self, ctx: ChargeContext) -> list[Line]:
        units = self.billable(ctx)
        tier = volume_tier(units, self.tiers)
        description = f"{self.name} ({self.meter_key}, tier {tier.label()}{self.included_note()}){ctx.suffix()}"
        return [self.line(description, units, tier.unit_price, volume_amount(units, self.tiers))]
