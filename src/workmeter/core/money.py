"""Money: the one Decimal constructor and the one rounding place.

Every price and amount in workmeter is a :class:`decimal.Decimal`. Floats are
refused at the door (``to_decimal(0.1)`` raises), because ``0.1`` is not one
tenth. Rounding happens only in :func:`round_money`, half-even to the
currency's minor unit; callers keep the exact amount beside the rounded one.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext

from workmeter.core.errors import InvalidMoney

#: The rounding mode used for every rounded amount (invoices, statements).
ROUNDING = ROUND_HALF_EVEN

#: Minor units per ISO 4217 currency; unknown currencies default to 2.
MINOR_UNITS: dict[str, int] = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "TND": 3}

#: Precision for exact intermediate arithmetic (DECIMAL(38, 18) in storage).
EXACT = Context(prec=60)

#: Scale used in storage: amounts are DECIMAL(38, 18).
STORAGE_SCALE = 18

ZERO = Decimal(0)


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Build a Decimal from an int, a Decimal or a decimal string. Never a float."""
    if isinstance(value, bool):
        raise InvalidMoney(f"{field}: booleans are not amounts")
    if isinstance(value, float):
        raise InvalidMoney(f"{field}: floats are not accepted for money, give a decimal string like \"1.25\"")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidMoney(f"{field}: {value!r} is not a decimal number") from None
    else:
        raise InvalidMoney(f"{field}: {type(value).__name__} is not an amount")
    if not result.is_finite():
        raise InvalidMoney(f"{field}: {value!r} is not finite")
    return result


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2)


def round_money(amount: Decimal, currency: str = "USD") -> Decimal:
    """The single rounding point: half-even to the currency's minor unit."""
    if not isinstance(amount, Decimal):
        raise InvalidMoney(f"round_money takes a Decimal, not {type(amount).__name__}")
    exp = Decimal(1).scaleb(-minor_units(currency))
    with localcontext(EXACT):
        return amount.quantize(exp, rounding=ROUNDING)


def fmt(amount: Decimal) -> str:
    """Decimal → plain string without exponent or trailing zeros (``"0.054399"``)."""
    if amount == 0:
        return "0"
    # normalize() rounds to the context precision: give it every digit the amount has
    with localcontext(Context(prec=max(EXACT.prec, len(amount.as_tuple().digits)))):
        return format(amount.normalize(), "f")


def fmt_fixed(amount: Decimal, currency: str = "USD") -> str:
    """A rounded amount shown with exactly the currency's minor digits (``"12.30"``)."""
    places = minor_units(currency)
    return format(amount, f".{places}f")
