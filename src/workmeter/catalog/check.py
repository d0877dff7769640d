"""Catalog checks: overlapping rows, holes in a model's price history or day.

Within one (provider, model, service tier) rows must never overlap (an event
would match two prices) and, inside each validity span, must cover the whole
day and every request size (an event would match none). A standard-tier
history with a hole between two prices is reported as a gap too.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from workmeter.catalog.model import DAY_US, IN_MAX, MAX_TIME, MIN_TIME, STANDARD, Catalog, PriceRow


def _overlap(a: PriceRow, b: PriceRow) -> bool:
    return (a.valid_from < b.valid_to and b.valid_from < a.valid_to and a.tod_lo < b.tod_hi
            and b.tod_lo < a.tod_hi and a.in_lo < b.in_hi and b.in_lo < a.in_hi)


def _when(t: Any) -> str:
    return "∞" if t in (MIN_TIME, MAX_TIME) else t.isoformat()


def _issue(kind: str, r: PriceRow, detail: str) -> dict[str, Any]:
    return {"kind": kind, "provider": r.provider, "model": r.model, "service_tier": r.service_tier,
            "detail": detail}


def check_rows(rows: Sequence[PriceRow]) -> list[dict[str, Any]]:
    """Issues of the rows of one (provider, model, tier)."""
    issues: list[dict[str, Any]] = []
    ordered = sorted(rows, key=lambda r: (r.valid_from, r.tod_lo, r.in_lo))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.valid_from >= a.valid_to:
                break
            if _overlap(a, b):
                issues.append(_issue("overlap", a, f"rows from {_when(a.valid_from)} and "
                                                   f"{_when(b.valid_from)} both price the same requests"))
    spans: dict[tuple[Any, Any], int] = {}
    for r in ordered:
        spans[(r.valid_from, r.valid_to)] = spans.get((r.valid_from, r.valid_to), 0) + (
            (r.tod_hi - r.tod_lo) * (r.in_hi - r.in_lo))
    for (start, end), area in spans.items():
        if area < DAY_US * IN_MAX and not issues:
            issues.append(_issue("gap", ordered[0], f"[{_when(start)}, {_when(end)}) does not cover every "
                                                    "time of day and request size"))
    if ordered and ordered[0].service_tier == STANDARD:
        bounds = sorted(spans)
        for (_, end), (start, _) in itertools.pairwise(bounds):
            if start > end:
                issues.append(_issue("gap", ordered[0], f"no price from {_when(end)} to {_when(start)}"))
    return issues


def check_catalog(catalog: Catalog) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    for key in sorted(catalog.rows):
        issues.extend(check_rows(catalog.rows[key]))
    for note in catalog.notes:
        issues.append({"kind": "note", "provider": note["provider"], "model": note["model"],
                       "service_tier": None, "detail": note["note"]})
    return issues
