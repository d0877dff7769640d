"""Ratios: the one place that fixes their precision and rounding.

Sums of money (cost, value, revenue) are exact ``Decimal`` sums of
``DECIMAL(38, 18)`` amounts and are never rounded by work-unit reports.
Every *ratio* — cost per completed task, tokens per completed task, ROI,
success rate, margin share, growth — is a quotient computed here in exact
Decimal arithmetic and then quantized to :data:`RATIO_PLACES` decimal places,
half-even (:data:`workmeter.core.money.ROUNDING`). A quotient with a zero
denominator is ``None`` (shown as ``null``), never 0 and never infinity.

Ratios are computed in Python over already-aggregated rows (one per group),
never in SQL: DuckDB divides DECIMALs into DOUBLEs.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from workmeter.core.money import EXACT, ROUNDING, to_decimal

#: Decimal places kept in every ratio (six: micro-dollars for money ratios).
RATIO_PLACES = 6

_QUANTUM = Decimal(1).scaleb(-RATIO_PLACES)


def quantize_ratio(value: Decimal) -> Decimal:
    """Round an exact quotient to :data:`RATIO_PLACES`, half-even."""
    with localcontext(EXACT):
        return value.quantize(_QUANTUM, rounding=ROUNDING)


def ratio(numerator: object, denominator: object) -> Decimal | None:
    """``numerator / denominator`` at ratio precision; ``None`` when either is missing or the denominator is 0."""
    if numerator is None or denominator is None:
        return None
    num, den = to_decimal(numerator, field="numerator"), to_decimal(denominator, field="denominator")
    if den == 0:
        return None
    with localcontext(EXACT):
        return quantize_ratio(num / den)


def growth(current: object, previous: object) -> Decimal | None:
    """Relative change ``current / previous − 1``; ``None`` when there is no previous amount."""
    if current is None or previous is None:
        return None
    rel = ratio(current, previous)
    return None if rel is None else rel - 1


def dec(value: object) -> Decimal:
    """A SQL aggregate (Decimal, int or NULL) as an exact Decimal; NULL becomes 0."""
    if value is None:
        return Decimal(0)
    return to_decimal(value)
