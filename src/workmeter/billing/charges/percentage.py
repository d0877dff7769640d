"""``percentage``: ``percent`` % of the rated provider cost (``100`` passes cost through)."""

from __future__ import annotations

from decimal import Decimal

from workmeter.billing.amounts import div
from workmeter.billing.charges import register_charge
from workmeter.billing.charges._cost import COST_FIELDS, HUNDRED, CostCharge, pct


@register_charge
class Percentage(CostCharge):
    type = "percentage"
    fields = COST_FIELDS

    def factor(self) -> Decimal:
        return div(self.percent, HUNDRED)

    def describe(self) -> str:
        return pct(self.percent)
