"""Shared parts of charges on rated provider cost (``percentage``, ``markup``).

Rated cost is the exact USD cost of priced ``llm.usage`` events, optionally
limited to a model group (``models = ["*sonnet*"]``, globs matched against
the model as sent and its catalog name). Unpriced calls carry no cost: they
are counted in the line's description and as a warning on the invoice,
never billed as $0 silently. The line's details break the amount down per
model and bucket, for the usage statement (per model only when the usage was
collected without per-bucket costs, as ``invoices run`` does for speed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workmeter.billing.amounts import add, exact, mul
from workmeter.billing.charges.base import Charge, ChargeContext, Line, Spec
from workmeter.core.money import fmt
from workmeter.normalize.buckets import PRICED_BUCKETS

COST_FIELDS = frozenset({"percent", "models"})
HUNDRED = Decimal(100)


class CostCharge(Charge):
    uses_cost = True

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.percent = spec.decimal("percent", minimum=None)
        self.models = spec.str_list("models")

    def factor(self) -> Decimal:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def lines(self, ctx: ChargeContext) -> list[Line]:
        factor = self.factor()
        details: list[dict[str, Any]] = []
        for m in ctx.usage.select(self.models):
            if m.unpriced_events == m.events:  # counted in the description and the invoice warning
                continue
            if not ctx.usage.bucket_costs:  # bulk runs collect the cost per model only
                details.append({"provider": m.provider, "model": m.model, "bucket": None,
                                "quantity": m.priced_events, "cost": m.cost,
                                "amount_exact": exact(mul(m.cost, factor))})
                continue
            for bucket in PRICED_BUCKETS:  # the priced calls' units: what the cost is the price of
                if m.priced_quantity(bucket) or m.costs[bucket]:
                    details.append({"provider": m.provider, "model": m.model, "bucket": bucket,
                                    "quantity": m.priced_quantity(bucket), "cost": m.costs[bucket],
                                    "amount_exact": exact(mul(m.costs[bucket], factor))})
            other = m.cost - add(*m.costs.values())  # per-request fees have no token bucket
            if other:
                details.append({"provider": m.provider, "model": m.model, "bucket": "request",
                                "quantity": m.priced_events, "cost": other,
                                "amount_exact": exact(mul(other, factor))})
        cost = add(*(d["cost"] for d in details))
        group = f" on {', '.join(self.models)}" if self.models else ""
        unpriced, _ = ctx.usage.unpriced(self.models)
        note = f"; {unpriced} unpriced calls not included" if unpriced else ""
        description = f"{self.name} ({self.describe()} of provider cost{group}{note}){ctx.suffix()}"
        return [self.line(description, cost, factor, mul(cost, factor), tuple(details))]


def pct(value: Decimal) -> str:
    return f"{fmt(value)}%"
