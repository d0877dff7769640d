"""Usage aggregates a charge sees: small, per customer and segment, computed in SQL.

The set-based collector (:mod:`workmeter.billing.collect`) turns millions of
events into, per (customer, segment): one :class:`ModelUsage` per provider and
model (bucket counts of every call and, apart, of the unpriced ones; rated
cost of the priced ones; unpriced counts with reasons), the value of every meter a plan needs, and the values of
extension sources (e.g. outcomes). Charges do their math on these in Python.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from workmeter.billing.amounts import ZERO, add
from workmeter.normalize.buckets import PRICED_BUCKETS


@dataclass(slots=True)
class ModelUsage:
    """One provider/model's usage in a segment."""

    provider: str
    model: str
    catalog_model: str | None = None
    events: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PRICED_BUCKETS, 0))
    reasoning: int = 0
    costs: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(PRICED_BUCKETS, ZERO))
    cost: Decimal = ZERO
    unpriced_events: int = 0
    unpriced_reasons: dict[str, int] = field(default_factory=dict)
    #: The part of ``buckets`` (and ``reasoning``) that belongs to unpriced calls.
    unpriced_buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PRICED_BUCKETS, 0))
    unpriced_reasoning: int = 0

    def priced_quantity(self, bucket: str) -> int:
        """Units of ``bucket`` on priced calls: what ``costs[bucket]`` is the price of."""
        return self.buckets[bucket] - self.unpriced_buckets[bucket]

    @property
    def priced_events(self) -> int:
        return self.events - self.unpriced_events

    def matches(self, patterns: Sequence[str] | None) -> bool:
        """True when the model (as sent, or its catalog name) matches any glob (case-insensitive)."""
        if not patterns:
            return True
        return _matches(self.model, self.catalog_model, tuple(patterns))

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(slots=True)
class SegmentUsage:
    """Everything measured for one customer over one segment."""

    models: list[ModelUsage] = field(default_factory=list)
    meters: dict[str, Decimal | None] = field(default_factory=dict)
    sources: dict[str, Decimal] = field(default_factory=dict)
    catalog_versions: set[str] = field(default_factory=set)
    bucket_costs: bool = True  # False: ``ModelUsage.costs`` were not collected (only ``cost``)

    def select(self, patterns: Sequence[str] | None) -> list[ModelUsage]:
        return [m for m in self.models if m.matches(patterns)]

    def cost(self, patterns: Sequence[str] | None = None) -> Decimal:
        return add(*(m.cost for m in self.select(patterns)))

    def tokens(self, bucket: str, patterns: Sequence[str] | None = None) -> int:
        return sum(m.buckets.get(bucket, 0) for m in self.select(patterns))

    def unpriced(self, patterns: Sequence[str] | None = None) -> tuple[int, dict[str, int]]:
        """Unpriced events (and counts per reason) among the matching models."""
        reasons: dict[str, int] = {}
        total = 0
        for m in self.select(patterns):
            total += m.unpriced_events
            for reason, n in m.unpriced_reasons.items():
                reasons[reason] = reasons.get(reason, 0) + n
        return total, reasons


@lru_cache(maxsize=4096)
def _matches(model: str, catalog_model: str | None, patterns: tuple[str, ...]) -> bool:
    """Memoized: a run asks the same few (model, patterns) questions for every customer."""
    names = [model.lower()] + ([catalog_model.lower()] if catalog_model else [])
    return any(fnmatch.fnmatchcase(n, p.lower()) for p in patterns for n in names)


def merge_models(rows: Iterable[ModelUsage]) -> list[ModelUsage]:
    """Merge rows of the same provider/model (priced and unpriced parts), sorted by label."""
    merged: dict[tuple[str, str], ModelUsage] = {}
    for row in rows:
        into = merged.get((row.provider, row.model))
        if into is None:
            merged[(row.provider, row.model)] = row
            continue
        into.catalog_model = into.catalog_model or row.catalog_model
        into.events += row.events
        into.reasoning += row.reasoning
        for b in PRICED_BUCKETS:
            into.buckets[b] += row.buckets[b]
            into.costs[b] = add(into.costs[b], row.costs[b])
        into.cost = add(into.cost, row.cost)
        into.unpriced_events += row.unpriced_events
        into.unpriced_reasoning += row.unpriced_reasoning
        for b in PRICED_BUCKETS:
            into.unpriced_buckets[b] += row.unpriced_buckets[b]
        for reason, n in row.unpriced_reasons.items():
            into.unpriced_reasons[reason] = into.unpriced_reasons.get(reason, 0) + n
    return [merged[k] for k in sorted(merged)]
