"""The usage report: event counts and bucket sums grouped by any dimension.

Reads ``live_events`` (counts only) or, through ``Workmeter.usage``, the
``rated_events`` view (usage with exact cost). Rows carry the group keys, ``events``, every
bucket sum, and — when rated — ``cost`` (exact decimal string, sum of priced
events) and ``unpriced_events`` (events with no price: never counted as $0).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workmeter.core.errors import InvalidInput
from workmeter.core.money import fmt
from workmeter.normalize.buckets import ALL_COUNTS
from workmeter.store.duckdb import Database
from workmeter.store.sqltime import utc_day_text_sql, utc_month_text_sql

#: Group key → SQL expression over the event row.
GROUP_KEYS: dict[str, str] = {
    "customer": "subject",
    "provider": "provider",
    "model": "model",
    "service_tier": "service_tier",
    "day": utc_day_text_sql("time"),  # UTC calendar, without time zone code
    "month": utc_month_text_sql("time"),
    "team": "team",
    "project": "project",
    "workflow": "workflow",
    "user": '"user"',
    "task": "task_id",
}

BUCKET_FIELDS: tuple[str, ...] = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output",
                                  "reasoning", "web_search")
assert set(BUCKET_FIELDS) == set(ALL_COUNTS)


def parse_by(by: str | list[str] | None) -> list[str]:
    """Group keys from ``"customer,model"`` or a list; empty means one total row."""
    keys = [k.strip() for k in (by.split(",") if isinstance(by, str) else (by or [])) if k.strip()]
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise InvalidInput(f"unknown group key {unknown[0]!r}; use any of {', '.join(GROUP_KEYS)}", where="--by")
    return keys


def time_filter(start: datetime | None, end: datetime | None, subjects: list[str] | None,
                col: str = "time") -> tuple[str, list[Any]]:
    """A WHERE clause for the half-open period [start, end) and an optional customer list."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if start is not None:
        where.append(f"{col} >= ?")
        params.append(start)
    if end is not None:
        where.append(f"{col} < ?")
        params.append(end)
    if subjects is not None:
        where.append("list_contains(?, subject)")
        params.append(list(subjects))
    return " AND ".join(where), params


#: The bucket sums of a usage report row, as aggregates over usage events.
BUCKET_SUMS: tuple[str, ...] = tuple(f'CAST(coalesce(sum("{b}"), 0) AS BIGINT)' for b in BUCKET_FIELDS)


def usage_report(db: Database, by: str | list[str] | None = None, start: datetime | None = None,
                 end: datetime | None = None, subjects: list[str] | None = None,
                 source: str = "live_events") -> list[dict[str, Any]]:
    """Group usage events; ``source`` is ``live_events`` (counts only) or a rated view (with cost).

    Callers that want cost go through ``Workmeter.usage``, which rates new model keys first and
    sums cost per group without a per-event cost (:func:`workmeter.rating.report.rated_usage_report`).
    """
    keys = parse_by(by)
    rated = source != "live_events"
    where, params = time_filter(start, end, subjects)
    key_sql = "".join(f"{GROUP_KEYS[k]} AS \"{k}\", " for k in keys)
    sums = ", ".join(f'{x} AS "{b}"' for x, b in zip(BUCKET_SUMS, BUCKET_FIELDS, strict=True))
    cost = (", sum(cost) AS cost, count(*) FILTER (WHERE NOT priced) AS unpriced_events" if rated else "")
    sql = (f"SELECT {key_sql}count(*) AS events, {sums}{cost} FROM {source} "
           f"WHERE type = 'llm.usage' AND {where} GROUP BY ALL ORDER BY ALL")
    cur = db.read()
    result = cur.execute(sql, params)
    names = [d[0] for d in result.description]
    rows = []
    for values in result.fetchall():
        row = dict(zip(names, values, strict=True))
        if rated:
            # no priced event in the group: the cost is unknown (null), never $0
            row["cost"] = fmt(row["cost"]) if row["cost"] is not None else None
        rows.append(row)
    return rows
