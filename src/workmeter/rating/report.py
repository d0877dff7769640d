"""The usage report with exact cost, summed per group without a per-event cost.

The rows of :func:`workmeter.ledger.usage.usage_report` over ``rated_events``
(group keys, ``events``, every bucket sum, ``cost`` as an exact decimal
string — null when no event of the group is priced, never $0 — and
``unpriced_events``), computed by :func:`workmeter.rating.aggregate.cost_by`:
prices picked per event by integer cell, dot products summed per group.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workmeter.core.money import fmt
from workmeter.ledger.usage import BUCKET_FIELDS, BUCKET_SUMS, GROUP_KEYS, parse_by, time_filter
from workmeter.rating.aggregate import cost_by
from workmeter.store.duckdb import Database


def rated_usage_report(db: Database, by: str | list[str] | None = None, start: datetime | None = None,
                       end: datetime | None = None, subjects: list[str] | None = None) -> list[dict[str, Any]]:
    """Usage with exact cost per group (rate new model keys first: ``Rater.refresh``)."""
    keys = parse_by(by)
    where, params = time_filter(start, end, subjects)
    rows = cost_by(db, [GROUP_KEYS[k] for k in keys], where, params, extras=BUCKET_SUMS)
    out = []
    for r in rows:
        row: dict[str, Any] = {k: r[f"g{i}"] for i, k in enumerate(keys)}
        row["events"] = r["events"]
        row.update({b: r[f"x{i}"] for i, b in enumerate(BUCKET_FIELDS)})
        row["cost"] = fmt(r["cost"]) if r["cost"] is not None else None
        row["unpriced_events"] = r["unpriced_events"]
        out.append(row)
    return out
