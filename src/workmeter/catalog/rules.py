"""Documented provider rules that fill gaps in list price data.

Two kinds, both loaded from a price book (the shipped ``provider_rules.toml``
or a user's book) and never guessed:

* :class:`TierRule` — a service tier the list data does not price at some
  time is priced from the standard prices: the prices stated for the listed
  buckets are multiplied by ``factor``, then the unit hierarchy applies (so an
  OpenAI cache write, billed as input, inherits the batch input price).
  Anthropic Message Batches and the OpenAI Batch API are 50% of standard; web
  search has no published batch rate and keeps the standard price. A catalog
  variant for the tier, where one exists, always wins over the rule.
* :class:`BucketRule` — a bucket with no list price is priced as ``factor ×``
  another bucket (Anthropic: a 1-hour cache write costs 2× base input). Only
  where the provider documents the multiplier; otherwise the bucket stays
  unpriced (a 1-hour write is never priced as a 5-minute write).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TierRule:
    provider: str
    tier: str
    factor: Decimal
    buckets: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class BucketRule:
    provider: str
    bucket: str
    of: str
    factor: Decimal
    source: str = ""


@dataclass(frozen=True, slots=True)
class Rules:
    tiers: tuple[TierRule, ...] = ()
    buckets: tuple[BucketRule, ...] = ()

    def tier_rule(self, provider: str, tier: str) -> TierRule | None:
        return next((r for r in self.tiers if r.provider == provider and r.tier == tier), None)

    def tiers_for(self, provider: str) -> list[str]:
        return [r.tier for r in self.tiers if r.provider == provider]

    def bucket_rule(self, provider: str, bucket: str) -> BucketRule | None:
        return next((r for r in self.buckets if r.provider == provider and r.bucket == bucket), None)

    def merged(self, other: Rules) -> Rules:
        """``other`` (a later book) wins for the same (provider, tier) or (provider, bucket)."""
        tiers = {(r.provider, r.tier): r for r in (*self.tiers, *other.tiers)}
        buckets = {(r.provider, r.bucket): r for r in (*self.buckets, *other.buckets)}
        return Rules(tuple(tiers.values()), tuple(buckets.values()))
