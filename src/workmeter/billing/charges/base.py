"""The charge contract: a charge parses its TOML table and turns usage into lines.

A charge model is one class (one module) registered by its ``type`` name.
Its job, for one customer and one segment of a period::

    spec (TOML table) ──parse──▶ Charge ──lines(ctx)──▶ [Line, ...]

* ``fields`` lists the table keys it accepts besides ``key``, ``type``,
  ``name`` and ``description``; an unknown key is an error at apply time.
* ``meters()`` / ``sources()`` / ``uses_cost`` declare what it reads, so one
  set-based pass collects exactly that for every customer.
* ``kind`` sorts its lines: ``flat`` fees are excluded from commitments,
  ``usage`` lines count toward them; ``phase = 2`` charges (discounts) run
  after commitments and see the earlier lines in ``ctx.prior``.
* ``lines`` is pure: exact Decimal math, no I/O, same input → same lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from workmeter.billing.aggregates import SegmentUsage
from workmeter.billing.amounts import ZERO, div, exact
from workmeter.billing.periods import Segment
from workmeter.core.errors import InvalidMoney
from workmeter.core.money import to_decimal
from workmeter.meters.model import FieldError

COMMON_FIELDS = frozenset({"key", "type", "name", "description"})
LINE_KINDS = ("flat", "usage", "commitment", "discount", "interim", "adjustment")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line. ``amount_exact`` is exact; the invoice rounds it once."""

    charge: str
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount_exact: Decimal
    kind: str = "usage"
    adjusts: str | None = None
    details: tuple[dict[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class ChargeContext:
    """What a charge sees: the currency, the segment, its usage, earlier lines."""

    currency: str
    segment: Segment
    usage: SegmentUsage
    prior: tuple[Line, ...] = ()

    @property
    def fraction(self) -> Decimal:
        """Share of the period covered by the segment (days / period days)."""
        if self.segment.full:
            return Decimal(1)
        return div(Decimal(self.segment.days), Decimal(self.segment.period.days))

    def prorate(self, amount: Decimal) -> Decimal:
        if self.segment.full:
            return amount
        return div(amount * self.segment.days, Decimal(self.segment.period.days))

    def suffix(self) -> str:
        """`` (Oct 1–15)`` for a partial segment, else empty."""
        return "" if self.segment.full else f" ({self.segment.label()})"

    def meter(self, key: str) -> Decimal:
        value = self.usage.meters.get(key)
        return ZERO if value is None else value


class Charge:
    """Base class of every charge model (see the module docstring)."""

    type: ClassVar[str] = ""
    kind: ClassVar[str] = "usage"
    phase: ClassVar[int] = 1
    fields: ClassVar[frozenset[str]] = frozenset()
    uses_cost: ClassVar[bool] = False

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        self.key = key
        self.name = name

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> Charge:
        reader = Spec(spec, COMMON_FIELDS | cls.fields)
        key = reader.text("key")
        if not _KEY.match(key):
            raise FieldError("key", f"{key!r} must be lowercase letters, digits, '_' or '-'")
        name = reader.text("name", default=key.replace("_", " ").capitalize())
        return cls(key, name, reader)

    def meters(self) -> set[str]:
        return set()

    def sources(self) -> set[str]:
        """Extension sources this charge reads (``name:key`` strings), see billing.collect."""
        return set()

    def lines(self, ctx: ChargeContext) -> list[Line]:
        raise NotImplementedError

    def line(self, description: str, quantity: Decimal, unit_price: Decimal | None, amount: Decimal,
             details: tuple[dict[str, Any], ...] = ()) -> Line:
        return Line(self.key, description, exact(quantity), unit_price, exact(amount), self.kind, None, details)


class Spec:
    """Typed, validated reads of a charge's TOML table; errors name the field."""

    def __init__(self, raw: Mapping[str, Any], allowed: frozenset[str]) -> None:
        unknown = sorted(set(raw) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed))
            raise FieldError(unknown[0], f"unknown field for type {raw.get('type')!r} (known: {known})")
        self.raw = raw

    def has(self, name: str) -> bool:
        return name in self.raw

    def text(self, name: str, default: str | None = None) -> str:
        value = self.raw.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise FieldError(name, "is required (a non-empty string)")
        return value.strip()

    def decimal(self, name: str, default: Decimal | None = None, *, minimum: Decimal | None = ZERO,
                positive: bool = False) -> Decimal:
        return self.decimal_value(name, self.raw.get(name), default, minimum=minimum, positive=positive)

    @staticmethod
    def decimal_value(name: str, value: Any, default: Decimal | None = None, *,
                      minimum: Decimal | None = ZERO, positive: bool = False) -> Decimal:
        if value is None:
            if default is None:
                raise FieldError(name, "is required (a decimal string like \"12.50\")")
            return default
        try:
            number = to_decimal(value, field=name)
        except InvalidMoney as exc:
            raise FieldError(name, exc.message.split(": ", 1)[-1]) from None
        if positive and number <= 0:
            raise FieldError(name, f"must be greater than 0, not {number}")
        if minimum is not None and number < minimum:
            raise FieldError(name, f"must be at least {minimum}, not {number}")
        return number

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.raw.get(name, default)
        if value not in options:
            raise FieldError(name, f"{value!r} is not one of {', '.join(options)}")
        return str(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise FieldError(name, "must be true or false")
        return value

    def str_list(self, name: str) -> tuple[str, ...]:
        value = self.raw.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise FieldError(name, "must be a string or a list of strings")
        return tuple(value)

    def day(self, name: str) -> date | None:
        value = self.raw.get(name)
        if value is None or isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise FieldError(name, f"{value!r} is not a date like 2026-12-31")

    def table(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise FieldError(name, "must be a table like { input = \"3\" }")
        return value

    def meter_key(self, name: str = "meter") -> str:
        return self.text(name)
