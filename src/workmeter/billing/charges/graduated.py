"""``graduated``: each unit is priced by the tier it falls in.

With tiers up to 1,000 at 0 and up to 100,000 at 0.002, then 0.001: 150,000
units bill 1,000 × 0 + 99,000 × 0.002 + 50,000 × 0.001 = 248. One line per
tier reached (a tier's ``flat_price`` is added once when any unit falls in it);
no usage gives one zero line.
"""

from __future__ import annotations

from decimal import Decimal

from workmeter.billing.amounts import ZERO, add, mul
from workmeter.billing.charges import register_charge
from workmeter.billing.charges._metered import MeteredCharge
from workmeter.billing.charges._tiers import TIERED_FIELDS, Tier, parse_tiers
from workmeter.billing.charges.base import ChargeContext, Line, Spec


def graduated_split(units: Decimal, tiers: tuple[Tier, ...]) -> list[tuple[Tier, Decimal]]:
    """Units per tier reached, in order."""
    out = []
    for tier in tiers:
        if units <= tier.lower:
            break
        top = units if tier.up_to is None else min(units, tier.up_to)
        out.append((tier, top - tier.lower))
    return out


def graduated_amount(units: Decimal, tiers: tuple[Tier, ...]) -> Decimal:
    return add(*(add(mul(n, t.unit_price), t.flat_price) for t, n in graduated_split(units, tiers)))


@register_charge
class Graduated(MeteredCharge):
    type = "graduated"
    fields = TIERED_FIELDS

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.tiers = parse_tiers(spec)

    def lines(self, ctx: ChargeContext) -> list[Line]:
        units = self.billable(ctx)
        split = graduated_split(units, self.tiers)
        if not split:
            description = f"{self.name} ({self.meter_key}{self.included_note()}){ctx.suffix()}"
            return [self.line(description, ZERO, self.tiers[0].unit_price, ZERO)]
        return [
            self.line(f"{self.name} (tier {tier.label()}{self.included_note()}){ctx.suffix()}", n,
                      tier.unit_price, add(mul(n, tier.unit_price), tier.flat_price))
            for tier, n in split
        ]
