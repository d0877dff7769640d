"""The invoice document: exact lines, one rounding per line, totals that add up.

Rules:

* each line keeps ``amount_exact``; its ``amount`` is ``round_money`` of it
  (half-even to the currency's minor unit) — the only rounding;
* ``subtotal`` = Σ line amounts; ``credits_applied`` ≤ subtotal (never
  negative); ``total`` = subtotal − credits_applied, exactly;
* the JSON shape is fixed (below) with money as decimal strings: rounded
  amounts with the currency's minor digits, exact amounts and quantities as
  plain decimals. ``warnings`` lists counted problems (unpriced usage)::

    {"number", "customer", "period": {"start", "end"}, "currency", "status",
     "lines": [{"charge", "description", "quantity", "unit_price", "amount_exact", "amount"}],
     "subtotal", "credits_applied", "total", "warnings"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from workmeter.billing.amounts import ZERO, add, exact_str, money_str
from workmeter.billing.charges.base import Line
from workmeter.billing.periods import Period
from workmeter.core.money import round_money


@dataclass
class Draft:
    """A computed invoice (regular or interim) before or after it is numbered."""

    customer: str
    currency: str
    period: Period
    lines: list[Line]
    kind: str = "regular"
    warnings: list[dict[str, Any]] = field(default_factory=list)
    burns: list[tuple[str, Decimal]] = field(default_factory=list)
    catalog_versions: list[str] = field(default_factory=list)
    plan_versions: list[dict[str, Any]] = field(default_factory=list)

    def amount(self, line: Line) -> Decimal:
        return round_money(line.amount_exact, self.currency)

    def rounded(self) -> list[Decimal]:
        """Each line's amount: its exact amount rounded once."""
        return [round_money(ln.amount_exact, self.currency) for ln in self.lines]

    @property
    def subtotal(self) -> Decimal:
        return add(*self.rounded())

    @property
    def credits_applied(self) -> Decimal:
        return add(*(amount for _, amount in self.burns))

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.credits_applied

    def to_json(self, number: str | None = None, status: str = "draft") -> dict[str, Any]:
        cur = self.currency
        amounts = self.rounded()
        subtotal = add(*amounts)
        credits = self.credits_applied
        return {
            "number": number,
            "customer": self.customer,
            "period": self.period.as_json(),
            "currency": cur,
            "status": status,
            "lines": [line_json(ln, a, cur) for ln, a in zip(self.lines, amounts, strict=True)],
            "subtotal": money_str(subtotal, cur),
            "credits_applied": money_str(credits, cur),
            "total": money_str(subtotal - credits, cur),
            "warnings": self.warnings,
        }


def line_json(line: Line, amount: Decimal, currency: str) -> dict[str, Any]:
    return {
        "charge": line.charge,
        "description": line.description,
        "quantity": exact_str(line.quantity),
        "unit_price": None if line.unit_price is None else exact_str(line.unit_price),
        "amount_exact": exact_str(line.amount_exact),
        "amount": money_str(amount, currency),
    }


def unpriced_warning(events: int, reasons: dict[str, int]) -> dict[str, Any]:
    detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
    return {"code": "unpriced_usage", "events": events, "reasons": dict(sorted(reasons.items())),
            "message": f"{events} usage events have no price and are not in cost-based lines ({detail})"}


def positive(amount: Decimal) -> Decimal:
    return amount if amount > 0 else ZERO
