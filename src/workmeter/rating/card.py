"""Rate cards: everything needed to price one ledger key, as non-overlapping rows.

A ledger key is the raw (provider, model, service_tier) triple an event
carries. Its card covers all time: for each time segment of a rating run
(catalog version V over ``[start, end)``) the key is resolved through V's
aliases and the rows of the catalog model and the tier served are copied,
clipped to the segment. Time not covered by a price gets a row with the
reason instead of prices:

* ``unknown model`` — no catalog model matches the strings;
* ``service tier X not in catalog`` — the model has standard prices then, but
  not for the tier served (and no documented rule prices it);
* ``no price at event time`` — the model has no prices at that time;
* a catalog note (e.g. ``not priced: separately priced output_reasoning tokens``).

Both raters read these rows, so they choose the same row by construction;
the property tests check the arithmetic and the range edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from workmeter.catalog import aliases
from workmeter.catalog.model import DAY_US, IN_MAX, STANDARD, Catalog, PriceRow, canonical_tier

UNKNOWN_MODEL = "unknown model"
NO_PRICE = "no price at event time"
PER_UNIT = Decimal("1e-6")

Segment = tuple[datetime, datetime, Catalog]


@dataclass(frozen=True, slots=True)
class CardRow:
    valid_from: datetime
    valid_to: datetime
    tod_lo: int
    tod_hi: int
    in_lo: int
    in_hi: int
    prices: tuple[Decimal | None, ...]  # per million units, RATED_BUCKETS order; () when unpriced
    reason: str | None
    catalog_version: str
    catalog_provider: str | None
    catalog_model: str | None

    def covers(self, at: datetime, tod: int, total_input: int) -> bool:
        return (self.valid_from <= at < self.valid_to and self.tod_lo <= tod < self.tod_hi
                and self.in_lo <= total_input < self.in_hi)


def _spans(rows: Sequence[PriceRow]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted({(r.valid_from, r.valid_to) for r in rows}):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _gaps(spans: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    gaps, cursor = [], start
    for a, b in spans:
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def _reason_rows(catalog: Catalog, start: datetime, end: datetime, reason: str,
                 provider: str | None, model: str | None) -> CardRow:
    return CardRow(start, end, 0, DAY_US, 0, IN_MAX, (), reason, catalog.version, provider, model)


def segment_rows(catalog: Catalog, start: datetime, end: datetime, provider_raw: str | None,
                 model_raw: str | None, tier_raw: str | None) -> list[CardRow]:
    entry = aliases.resolve(catalog, provider_raw, model_raw)
    if entry is None:
        return [_reason_rows(catalog, start, end, UNKNOWN_MODEL, None, None)]
    p, m, tier = entry.provider, entry.model, canonical_tier(tier_raw)
    rows = [c for r in catalog.rows.get((p, m, tier), ()) if (c := r.clipped(start, end))]
    out = [CardRow(r.valid_from, r.valid_to, r.tod_lo, r.tod_hi, r.in_lo, r.in_hi, r.prices, None,
                   catalog.version, p, m) for r in rows]
    standard = _spans(catalog.rows.get((p, m, STANDARD), ())) if tier != STANDARD else []
    note = next((n["note"] for n in catalog.notes if n["provider"] == p and n["model"] == m), None)
    for a, b in _gaps(_spans(rows), start, end):
        for sa, sb in _gaps(standard, a, b) if tier != STANDARD else [(a, b)]:
            out.append(_reason_rows(catalog, sa, sb, note or NO_PRICE, p, m))
        if tier != STANDARD:
            for sa, sb in standard:
                lo, hi = max(sa, a), min(sb, b)
                if lo < hi:
                    out.append(_reason_rows(catalog, lo, hi, f"service tier {tier} not in catalog", p, m))
    return sorted(out, key=lambda r: (r.valid_from, r.tod_lo, r.in_lo))


def card(segments: Sequence[Segment], provider_raw: str | None, model_raw: str | None,
         tier_raw: str | None) -> list[CardRow]:
    """The complete card of one ledger key under a run's segments (ordered, non-overlapping)."""
    out: list[CardRow] = []
    for start, end, catalog in segments:
        out.extend(segment_rows(catalog, start, end, provider_raw, model_raw, tier_raw))
    return out
