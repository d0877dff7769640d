"""Shared parts of charges priced on one meter's value: the meter and an included allowance."""

from __future__ import annotations

from decimal import Decimal

from workmeter.billing.amounts import ZERO
from workmeter.billing.charges.base import Charge, ChargeContext, Spec
from workmeter.core.money import fmt

METERED_FIELDS = frozenset({"meter", "included"})


class MeteredCharge(Charge):
    """A charge on a meter: ``quantity = max(0, meter value − included)``."""

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.meter_key = spec.meter_key("meter")
        self.included = spec.decimal("included", ZERO)

    def meters(self) -> set[str]:
        return {self.meter_key}

    def billable(self, ctx: ChargeContext) -> Decimal:
        return max(ZERO, ctx.meter(self.meter_key) - self.included)

    def included_note(self) -> str:
        return f", {fmt(self.included)} included" if self.included else ""
