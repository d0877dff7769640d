"""Exact amounts for billing: the storage scale, quantities, and money strings.

Line amounts are computed exactly with Decimal. Most charges are products of
decimals and stay exact; day-proration and averages divide, and their result
is carried to the storage scale (18 decimal places, ``DECIMAL(38, 18)``),
half-even — that is the ``amount_exact`` kept beside every rounded amount.
Rounding to the currency's minor unit happens only in
:func:`workmeter.core.money.round_money`.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from workmeter.core.errors import InvalidMoney
from workmeter.core.money import EXACT, ROUNDING, STORAGE_SCALE, fmt_fixed, minor_units, to_decimal

ZERO = Decimal(0)
ONE = Decimal(1)
_SCALE = Decimal(1).scaleb(-STORAGE_SCALE)


def exact(value: Decimal) -> Decimal:
    """Carry a computed amount to the storage scale (18 places, half-even), normalized."""
    q = value.quantize(_SCALE, rounding=ROUNDING, context=EXACT)
    return q.normalize(EXACT) if q else ZERO


def mul(*factors: Decimal) -> Decimal:
    """An exact product (60 significant digits, far beyond any amount)."""
    out = ONE
    for f in factors:
        out = EXACT.multiply(out, f)
    return out


def div(a: Decimal, b: Decimal) -> Decimal:
    """``a / b`` carried to the storage scale."""
    return exact(EXACT.divide(a, b))


def add(*terms: Decimal) -> Decimal:
    out = ZERO
    for t in terms:
        out = EXACT.add(out, t)
    return out


def money_str(amount: Decimal, currency: str) -> str:
    """A rounded amount with the currency's minor digits (``"12.30"``)."""
    return fmt_fixed(amount, currency)


def exact_str(amount: Decimal) -> str:
    """An exact amount or quantity as a plain decimal string (``"0.054399"``, ``"99"``).

    Same text as :func:`workmeter.core.money.fmt`, without normalizing first.
    """
    if not amount:
        return "0"
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def check_minor(amount: Decimal, currency: str, field: str) -> Decimal:
    """Refuse amounts finer than the currency's minor unit (a grant of 1.005 USD)."""
    places = minor_units(currency)
    with localcontext(EXACT):
        if amount.quantize(Decimal(1).scaleb(-places)) != amount:
            raise InvalidMoney(f"{field}: {amount} has more than {places} decimal places for {currency}")
    return amount


__all__ = ["ONE", "ZERO", "add", "check_minor", "div", "exact", "exact_str", "money_str", "mul", "to_decimal"]
