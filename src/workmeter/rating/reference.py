"""The pure-Python reference rater: one event → exact rated lines, or unpriced.

No I/O. The price comes from the event's own time, the tier served and the
request's total input (uncached + cache reads + cache writes, which is what
whole-request tiers count). Each bucket with a quantity becomes a line::

    amount = quantity × unit_price_per_million / 1,000,000

kept exact. Amounts are stored at 18 decimals (``DECIMAL(38, 18)``); only a
list price with more than 12 decimals per million could need more, and then
the line is brought to 18 decimals half-up, exactly as the database does, so
both raters agree to the last digit. ``total`` is the sum of the lines, never
rounded to cents here (that happens at invoice time).

Any bucket with a quantity but no price makes the whole event unpriced
(``no price for bucket cache_write_1h``) — an event is never partly priced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import Any

from workmeter.catalog.model import MAX_TIME, MIN_TIME, RATED_BUCKETS, UNITS, Catalog
from workmeter.core.money import fmt
from workmeter.normalize.buckets import Buckets
from workmeter.rating.card import CardRow, Segment, card

STORAGE_QUANTUM = Decimal("1e-18")
_ZERO = Decimal(0)
MILLION = Decimal(1_000_000)
DAY_US = 86_400_000_000


@dataclass(frozen=True, slots=True)
class RatedLine:
    bucket: str
    quantity: int
    unit_price_per_million: Decimal
    amount: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "quantity": self.quantity,
                "unit_price_per_million": _fmt_price(self.unit_price_per_million),
                "amount": _fmt_amount(self.amount)}

    @property
    def unit(self) -> str:
        return UNITS[self.bucket]


@dataclass(frozen=True, slots=True)
class RatedEvent:
    status: str  # "priced" | "unpriced"
    total: Decimal | None = None
    lines: tuple[RatedLine, ...] = ()
    reason: str | None = None
    catalog_version: str | None = None
    catalog_provider: str | None = None
    catalog_model: str | None = None
    currency: str = field(default="USD")

    @property
    def priced(self) -> bool:
        return self.status == "priced"

    def as_dict(self) -> dict[str, Any]:
        if not self.priced:
            return {"status": "unpriced", "reason": self.reason}
        assert self.total is not None
        return {"status": "priced", "total": _fmt_amount(self.total), "currency": self.currency,
                "catalog_version": self.catalog_version, "lines": [ln.as_dict() for ln in self.lines]}


_fmt_price = lru_cache(maxsize=8192)(fmt)


def _fmt_amount(amount: Decimal) -> str:
    """Same text as :func:`workmeter.core.money.fmt`, without a context switch per call (hot in quotes)."""
    return "0" if not amount else format(amount.normalize(_EXACT_CTX), "f")


def time_of_day_us(at: datetime) -> int:
    """Microseconds after UTC midnight (naive times are UTC)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return ((at.hour * 60 + at.minute) * 60 + at.second) * 1_000_000 + at.microsecond


def quantities(buckets: Buckets) -> tuple[int, ...]:
    """Quantities in RATED_BUCKETS order; ``request`` is one call."""
    return (buckets.input, buckets.cache_read, buckets.cache_write_5m, buckets.cache_write_1h,
            buckets.output, buckets.web_search, 1)


_EXACT_CTX = Context(prec=80)


def line_amount(quantity: int, price_per_million: Decimal) -> Decimal:
    """``quantity × price / 10⁶`` exactly; beyond 18 decimals, half-up to 18 (as the database stores it)."""
    exact = _EXACT_CTX.multiply(quantity, price_per_million).scaleb(-6, _EXACT_CTX)
    if exact.as_tuple().exponent < -18:  # type: ignore[operator]
        return exact.quantize(STORAGE_QUANTUM, ROUND_HALF_UP, _EXACT_CTX)
    return exact


def price_with(row: CardRow | None, buckets: Buckets) -> RatedEvent:
    """Apply one card row (the one covering the event, or None) to the buckets."""
    if row is None:
        return RatedEvent("unpriced", reason="no price at event time")
    meta: dict[str, Any] = {"catalog_version": row.catalog_version, "catalog_provider": row.catalog_provider,
                            "catalog_model": row.catalog_model}
    if row.reason is not None:
        return RatedEvent("unpriced", reason=row.reason, **meta)
    lines, total = [], _ZERO
    for bucket, qty, price in zip(RATED_BUCKETS, quantities(buckets), row.prices, strict=True):
        if bucket == "request" and price is None:
            continue
        if qty <= 0:
            continue
        if price is None:
            return RatedEvent("unpriced", reason=f"no price for bucket {bucket}", **meta)
        amount = line_amount(qty, price)
        lines.append(RatedLine(bucket, qty, price, amount))
        total = _EXACT_CTX.add(total, amount)
    return RatedEvent("priced", total=total, lines=tuple(lines), **meta)


def find_row(rows: Sequence[CardRow], at: datetime, buckets: Buckets) -> CardRow | None:
    tod, total_input = time_of_day_us(at), buckets.total_input
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return next((r for r in rows if r.covers(at, tod, total_input)), None)


def rate(catalog: Catalog, provider: str | None, model: str | None, buckets: Buckets, time: datetime,
         service_tier: str | None = None) -> RatedEvent:
    """Rate one event against one catalog version (all time priced by that version)."""
    return rate_segments([(MIN_TIME, MAX_TIME, catalog)], provider, model, buckets, time, service_tier)


def rate_segments(segments: Sequence[Segment], provider: str | None, model: str | None, buckets: Buckets,
                  time: datetime, service_tier: str | None = None) -> RatedEvent:
    """Rate one event under a rating run's segments (each time range priced by its catalog version)."""
    return price_with(find_row(card(segments, provider, model, service_tier), time, buckets), buckets)
