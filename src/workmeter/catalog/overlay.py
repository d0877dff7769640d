"""Apply price books over list rows: book models replace, adjustments scale.

Precedence, in order: list prices (with the shipped provider rules) → each
book's models, which replace every list row of the same (provider, model,
service tier) over the book entry's validity → each book's adjustments
(discount or markup, a factor on every matching row inside their validity).
Book models are matched before list models, by id and aliases.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from fnmatch import fnmatchcase

from workmeter.catalog.book import Adjustment, Book, BookModel
from workmeter.catalog.genai_import import fill_hierarchy
from workmeter.catalog.model import (
    DAY_US,
    IN_MAX,
    MAX_TIME,
    MIN_TIME,
    RATED_BUCKETS,
    ModelEntry,
    PriceRow,
    ProviderEntry,
    scale,
)
from workmeter.catalog.rules import Rules


def _span(entry: BookModel | Adjustment) -> tuple[datetime, datetime]:
    return entry.valid_from or MIN_TIME, entry.valid_to or MAX_TIME


def _outside(rows: Iterable[PriceRow], start: datetime, end: datetime) -> list[PriceRow]:
    out: list[PriceRow] = []
    for r in rows:
        out.extend(x for x in (r.clipped(r.valid_from, start), r.clipped(end, r.valid_to)) if x)
    return out


def _tod_ranges(start_us: int, end_us: int) -> list[tuple[int, int]]:
    if end_us > start_us:
        return [(start_us, end_us)]
    return [(start_us, DAY_US), *([(0, end_us)] if end_us > 0 else [])]


def _us(t: object) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond  # type: ignore[attr-defined]


def book_model_rows(m: BookModel, rules: Rules, source: str) -> list[PriceRow]:
    """A book entry → rows: windows split the day, tiers split total input."""
    start, end = _span(m)
    windows: list[tuple[int, int, dict[str, Decimal]]] = []
    for w in m.windows:
        windows += [(a, b, w.prices) for a, b in _tod_ranges(_us(w.start), _us(w.end))]
    edges = sorted({0, DAY_US, *(a for a, _, _ in windows), *(b for _, b, _ in windows)})
    tiers = sorted(m.tiers, key=lambda t: t.threshold)
    bounds = [0, *((t.threshold if t.inclusive else t.threshold + 1) for t in tiers), IN_MAX]
    rows = []
    for a, b in itertools.pairwise(edges):
        base = dict(m.prices)
        for wa, wb, prices in windows:
            if wa <= a < wb:
                base.update(prices)
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            given = dict(base)
            for t in tiers[:i]:
                given.update(t.prices)
            filled = fill_hierarchy(m.provider, dict(given), rules)
            flat = tuple(filled[k] for k in RATED_BUCKETS)
            rows.append(PriceRow(m.provider, m.model, m.service_tier, start, end,
                                 flat, a, b, lo, hi, source))  # type: ignore[arg-type]
    return rows


def _adjust(rows: list[PriceRow], adj: Adjustment) -> list[PriceRow]:
    start, end = _span(adj)
    out: list[PriceRow] = []
    for r in rows:
        hit = (fnmatchcase(r.provider, adj.provider) and fnmatchcase(r.model, adj.model)
               and fnmatchcase(r.service_tier, adj.service_tier))
        inside = r.clipped(start, end) if hit else None
        if inside is None:
            out.append(r)
            continue
        out.extend(_outside([r], start, end))
        out.append(replace(inside, prices=scale(inside.prices, adj.factor), source=f"{r.source}+adjusted"))
    return out


def apply_books(providers: list[ProviderEntry], models: list[ModelEntry], rows: list[PriceRow],
                books: list[Book], rules: Rules) -> tuple[list[ProviderEntry], list[ModelEntry], list[PriceRow]]:
    known = {p.id for p in providers}
    for book in books:
        book_entries = []
        for m in book.models:
            if m.provider not in known:
                providers.append(ProviderEntry(m.provider))
                known.add(m.provider)
            clause = {"or": [{"equals": m.model}, *({"equals": a} for a in m.aliases)]}
            book_entries.append(ModelEntry(m.provider, m.model, clause, f"{book.name} (price book)"))
            start, end = _span(m)
            same = [r for r in rows if r.key() == (m.provider, m.model, m.service_tier)]
            rows = [r for r in rows if r.key() != (m.provider, m.model, m.service_tier)]
            rows += _outside(same, start, end) + book_model_rows(m, rules, f"book:{book.name}")
        models = book_entries + models  # a list model keeps its own match clause too
        for adj in book.adjustments:
            rows = _adjust(rows, adj)
    return providers, models, rows
