"""``markup``: rated provider cost × (1 + ``percent`` / 100); a 20% markup on $10 bills $12."""

from __future__ import annotations

from decimal import Decimal

from workmeter.billing.amounts import ONE, add, div
from workmeter.billing.charges import register_charge
from workmeter.billing.charges._cost import COST_FIELDS, HUNDRED, CostCharge, pct


@register_charge
class Markup(CostCharge):
    type = "markup"
    fields = COST_FIELDS

    def factor(self) -> Decimal:
        return add(ONE, div(self.percent, HUNDRED))

    def describe(self) -> str:
        return f"cost + {pct(self.percent)}"
