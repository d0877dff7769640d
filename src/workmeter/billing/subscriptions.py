"""Subscriptions: a per-customer timeline of plan versions, starting on local dates.

Each row says "from ``start`` (local midnight, customer's timezone) the
customer is on plan ``key`` version ``v``" (``key`` NULL: no plan). A row
lasts until the next row's start. Subscribing to another plan mid-period is
a plan change: two segments in that period, flat fees prorated by day.
Rows are never updated; for the same start date the latest row wins.
Subscriptions stay on their plan version until migrated, which adds a row
on the new version at the migration date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from workmeter.billing.periods import Period, Segment, segment
from workmeter.store.duckdb import Database


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of days ``[start, end)`` on one plan version (``end`` None: open)."""

    customer: str
    plan_key: str
    plan_version: int
    start: date
    end: date | None

    def as_dict(self) -> dict[str, Any]:
        return {"customer": self.customer, "plan": self.plan_key, "version": self.plan_version,
                "start": self.start.isoformat(), "end": self.end.isoformat() if self.end else None}


def spans_of(rows: Sequence[tuple[str, str | None, int | None, date]]) -> list[Span]:
    """Timeline rows (customer, plan, version, start), latest-per-start, sorted → spans."""
    out: list[Span] = []
    for i, (customer, key, version, start) in enumerate(rows):
        end = rows[i + 1][3] if i + 1 < len(rows) else None
        if key is not None and version is not None:
            out.append(Span(customer, key, version, start, end))
    return out


def period_segments(spans: Sequence[Span], period: Period) -> list[tuple[Segment, Span]]:
    out = []
    for span in spans:
        seg = segment(period, span.start, span.end)
        if seg is not None:
            out.append((seg, span))
    return out


_TIMELINE = """
SELECT customer, arg_max(plan_key, seq), arg_max(plan_version, seq), start_date
FROM billing_subscriptions {where} GROUP BY customer, start_date ORDER BY customer, start_date
"""


class Subscriptions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, customer: str, plan_key: str | None, version: int | None, start: date, now: datetime,
            note: str) -> None:
        with self.db.write() as con:
            row = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM billing_subscriptions").fetchone()
            seq = row[0] if row else 1
            con.execute("INSERT INTO billing_subscriptions VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [seq, customer, plan_key, version, start, now, note])

    def spans(self, customers: Sequence[str] | None = None) -> dict[str, list[Span]]:
        """Every customer's spans (one query)."""
        where, params = "", []
        if customers is not None:
            where = f"WHERE customer IN ({', '.join('?' for _ in customers)})" if customers else "WHERE false"
            params = list(customers)
        rows = self.db.read().execute(_TIMELINE.format(where=where), params).fetchall()
        by_customer: dict[str, list[tuple[str, str | None, int | None, date]]] = {}
        for row in rows:
            by_customer.setdefault(row[0], []).append(row)
        return {c: spans_of(r) for c, r in by_customer.items()}

    def active(self, customer: str, on: date) -> Span | None:
        for span in self.spans([customer]).get(customer, []):
            if span.start <= on and (span.end is None or on < span.end):
                return span
        return None
