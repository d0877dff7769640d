"""``per_token``: your own price per token bucket for a model group.

``models = ["*sonnet*"]``, ``prices = { input = "4", output = "20" }`` and
``per = 1000000`` (the default) bill $4 per million uncached input tokens and
$20 per million output tokens on any Sonnet, whatever the provider's price
(no rating needed, so unpriced models bill too). Buckets: input, cache_read,
cache_write_5m, cache_write_1h, output, web_search (``per = 1`` for requests).
``included = { input = 1000000 }`` makes the first tokens of a bucket free.
One line per priced bucket; quantity is in units of ``per`` tokens.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workmeter.billing.amounts import ZERO, div, mul
from workmeter.billing.charges import register_charge
from workmeter.billing.charges.base import Charge, ChargeContext, Line, Spec
from workmeter.core.money import fmt
from workmeter.meters.model import FieldError
from workmeter.normalize.buckets import PRICED_BUCKETS


@register_charge
class PerToken(Charge):
    type = "per_token"
    fields = frozenset({"models", "prices", "per", "included"})

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.models = spec.str_list("models")
        self.prices = _bucket_table(spec, "prices", required=True)
        self.included = _bucket_table(spec, "included", required=False)
        self.per = spec.decimal("per", Decimal(1_000_000), positive=True)
        if self.per != int(self.per) or str(int(self.per)).rstrip("0") != "1":
            raise FieldError("per", f"must be a power of ten (1, 1000, 1000000), not {fmt(self.per)}")

    def lines(self, ctx: ChargeContext) -> list[Line]:
        group = ", ".join(self.models) if self.models else "all models"
        unit = "" if self.per == 1 else f" per {_per_label(self.per)}"
        out = []
        for bucket in PRICED_BUCKETS:
            if bucket not in self.prices:
                continue
            tokens = Decimal(ctx.usage.tokens(bucket, self.models))
            billable = max(ZERO, tokens - self.included.get(bucket, ZERO))
            qty = div(billable, self.per)
            details: tuple[dict[str, Any], ...] = tuple(
                {"provider": m.provider, "model": m.model, "bucket": bucket, "quantity": m.buckets[bucket]}
                for m in ctx.usage.select(self.models) if m.buckets[bucket])
            free = f", {fmt(self.included[bucket])} included" if bucket in self.included else ""
            description = f"{self.name}: {bucket} on {group}{unit}{free}{ctx.suffix()}"
            out.append(self.line(description, qty, self.prices[bucket], mul(qty, self.prices[bucket]), details))
        return out


def _bucket_table(spec: Spec, name: str, required: bool) -> dict[str, Decimal]:
    table = spec.table(name)
    if required and not table:
        raise FieldError(name, f"is required: a table of bucket prices like {{ input = \"4\" }} "
                               f"(buckets: {', '.join(PRICED_BUCKETS)})")
    out = {}
    for bucket, value in table.items():
        if bucket not in PRICED_BUCKETS:
            raise FieldError(f"{name}.{bucket}", f"unknown bucket (known: {', '.join(PRICED_BUCKETS)})")
        out[bucket] = Spec.decimal_value(f"{name}.{bucket}", value)
    return out


def _per_label(per: Decimal) -> str:
    return {Decimal(1000): "1K", Decimal(1_000_000): "1M", Decimal(1_000_000_000): "1B"}.get(per, fmt(per))
