"""The in-memory catalog: providers, models, and dated price rows.

A catalog *version* is immutable. Its prices are :class:`PriceRow` records,
one per (provider, model, service tier, validity range, time-of-day window,
whole-request input range), each with a price per million units for every
rated bucket (``None`` = no price). Within one (provider, model, tier) the
rows never overlap, so an event matches at most one row:

* validity is half-open ``[valid_from, valid_to)`` on the event's own time;
* the time-of-day window is half-open ``[tod_lo, tod_hi)`` in microseconds
  after UTC midnight (a window crossing midnight is stored as two rows);
* the input range ``[in_lo, in_hi)`` is over the request's *total* input
  (uncached + cache reads + cache writes), so a tier "above 200,000, strict"
  starts at ``in_lo = 200_001`` and a ``>=`` tier at ``200_000``.

Prices are per million units: tokens for the token buckets, requests for
``web_search`` and ``request`` (a per-call fee, quantity 1 per usage event).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from workmeter.normalize.buckets import PRICED_BUCKETS

#: Buckets the rater prices, in line order. ``request`` is a per-call fee (quantity 1).
RATED_BUCKETS: tuple[str, ...] = (*PRICED_BUCKETS, "request")
UNITS: dict[str, str] = {b: "token" for b in PRICED_BUCKETS[:5]} | {"web_search": "request",
                                                                      "request": "request"}
MIN_TIME = datetime(1, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
DAY_US = 86_400_000_000
IN_MAX = 2**62
STANDARD = "standard"

#: Raw ``service_tier`` values that mean the standard (default) tier.
STANDARD_ALIASES: frozenset[str] = frozenset({"", "default", "standard"})

Prices = tuple[Decimal | None, ...]


def canonical_tier(raw: str | None) -> str:
    """The tier actually served, as the catalog names it (``None``/``default`` → ``standard``)."""
    value = (raw or "").strip().lower()
    return STANDARD if value in STANDARD_ALIASES else value


@dataclass(frozen=True, slots=True)
class PriceRow:
    provider: str
    model: str
    service_tier: str
    valid_from: datetime
    valid_to: datetime
    prices: Prices
    tod_lo: int = 0
    tod_hi: int = DAY_US
    in_lo: int = 0
    in_hi: int = IN_MAX
    source: str = "genai-prices"

    def price(self, bucket: str) -> Decimal | None:
        return self.prices[RATED_BUCKETS.index(bucket)]

    def covers(self, at: datetime, tod: int, total_input: int) -> bool:
        return (self.valid_from <= at < self.valid_to and self.tod_lo <= tod < self.tod_hi
                and self.in_lo <= total_input < self.in_hi)

    def clipped(self, start: datetime, end: datetime) -> PriceRow | None:
        lo, hi = max(self.valid_from, start), min(self.valid_to, end)
        return replace(self, valid_from=lo, valid_to=hi) if lo < hi else None

    def key(self) -> tuple[str, str, str]:
        return (self.provider, self.model, self.service_tier)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """A catalog model and the clause that matches model strings to it (genai-prices match logic)."""

    provider: str
    model: str
    match: Any  # {"equals": s} | {"starts_with": s} | {"or": [...]} | ...
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    id: str
    provider_match: Any = None
    model_match: Any = None
    fallbacks: tuple[str, ...] = ()


@dataclass
class Catalog:
    """One immutable catalog version, in memory."""

    version: str
    providers: dict[str, ProviderEntry]
    models: dict[str, list[ModelEntry]]
    rows: dict[tuple[str, str, str], list[PriceRow]] = field(default_factory=dict)
    notes: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def build(cls, version: str, providers: Iterable[ProviderEntry], models: Iterable[ModelEntry],
              rows: Iterable[PriceRow], notes: Iterable[dict[str, str]] = ()) -> Catalog:
        by_provider: dict[str, list[ModelEntry]] = {}
        for m in models:
            by_provider.setdefault(m.provider, []).append(m)
        by_key: dict[tuple[str, str, str], list[PriceRow]] = {}
        for r in rows:
            by_key.setdefault(r.key(), []).append(r)
        for lst in by_key.values():
            lst.sort(key=lambda r: (r.valid_from, r.tod_lo, r.in_lo))
        return cls(version, {p.id: p for p in providers}, by_provider, by_key, list(notes))

    def all_rows(self) -> list[PriceRow]:
        return [r for key in sorted(self.rows) for r in self.rows[key]]

    def tiers_of(self, provider: str, model: str) -> list[str]:
        return sorted({t for (p, m, t) in self.rows if p == provider and m == model})

    def has_model(self, provider: str, model: str) -> bool:
        return any(m.model == model for m in self.models.get(provider, []))


def scale(prices: Prices, factor: Decimal, buckets: Iterable[str] | None = None) -> Prices:
    """Multiply the prices of ``buckets`` (all when None) by ``factor``; missing prices stay missing."""
    chosen = set(RATED_BUCKETS if buckets is None else buckets)
    return tuple(p * factor if (p is not None and b in chosen) else p
                 for b, p in zip(RATED_BUCKETS, prices, strict=True))
