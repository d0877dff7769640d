"""Tier tables shared by ``graduated`` and ``volume``.

``tiers = [ { up_to = 1000, unit_price = "0" }, { up_to = 100000, unit_price = "0.002" },
{ unit_price = "0.001" } ]``: upper bounds are inclusive and strictly
increasing; the last tier has no ``up_to`` (it is open-ended). A tier may add
a ``flat_price`` charged once when any unit falls in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from workmeter.billing.amounts import ZERO
from workmeter.billing.charges._metered import METERED_FIELDS
from workmeter.billing.charges.base import Spec
from workmeter.core.money import fmt
from workmeter.meters.model import FieldError

TIERED_FIELDS = METERED_FIELDS | {"tiers"}
_TIER_FIELDS = frozenset({"up_to", "unit_price", "flat_price"})


@dataclass(frozen=True, slots=True)
class Tier:
    lower: Decimal  # exclusive: units above this bound fall here
    up_to: Decimal | None  # inclusive; None = no upper bound
    unit_price: Decimal
    flat_price: Decimal

    def label(self) -> str:
        low = fmt(self.lower + 1) if self.lower == self.lower.to_integral_value() else f">{fmt(self.lower)}"
        return f"{low}–{fmt(self.up_to)}" if self.up_to is not None else f"{low}+"


def parse_tiers(spec: Spec) -> tuple[Tier, ...]:
    raw = spec.raw.get("tiers")
    if not isinstance(raw, list) or not raw:
        raise FieldError("tiers", "is required: a list like [ { up_to = 1000, unit_price = \"0\" }, "
                                  "{ unit_price = \"0.001\" } ]")
    return tuple(_tiers(raw))


def _tiers(raw: Sequence[Any]) -> list[Tier]:
    out: list[Tier] = []
    lower = ZERO
    for i, item in enumerate(raw):
        where = f"tiers[{i}]"
        if not isinstance(item, dict):
            raise FieldError(where, "must be a table { up_to = N, unit_price = \"P\" }")
        unknown = sorted(set(item) - _TIER_FIELDS)
        if unknown:
            raise FieldError(f"{where}.{unknown[0]}", "unknown tier field (known: flat_price, unit_price, up_to)")
        last = i == len(raw) - 1
        up_to = None if item.get("up_to") is None else Spec.decimal_value(f"{where}.up_to", item["up_to"])
        if last and up_to is not None:
            raise FieldError(f"{where}.up_to", "the last tier must be open-ended (no up_to)")
        if not last and up_to is None:
            raise FieldError(f"{where}.up_to", "only the last tier may omit up_to")
        if up_to is not None and up_to <= lower:
            raise FieldError(f"{where}.up_to", f"must be greater than the previous bound {fmt(lower)}")
        price = Spec.decimal_value(f"{where}.unit_price", item.get("unit_price"))
        flat = Spec.decimal_value(f"{where}.flat_price", item.get("flat_price"), ZERO)
        out.append(Tier(lower, up_to, price, flat))
        lower = up_to if up_to is not None else lower
    return out
