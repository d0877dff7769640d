"""Billing periods and subscription segments, in the customer's timezone.

Rules:

* A period is a calendar month, half-open ``[start, end)``: from local
  midnight of the 1st to local midnight of the 1st of the next month, in the
  customer's IANA timezone (``Europe/Paris``). Its key is ``YYYY-MM``.
* Subscriptions start and end on local dates (at local midnight). The part of
  a period one subscription covers is a *segment* ``[start, end)`` of whole
  local days.
* Proration is by day: a segment covering ``d`` of the period's ``D`` days
  carries ``d / D`` of each flat fee, fixed discount and commitment of its plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workmeter.core.errors import InvalidInput

_KEY = re.compile(r"^(\d{4})-(\d{2})$")


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r} (use an IANA name like Europe/Paris)") from None


def local_midnight(day: date, tz: str) -> datetime:
    """The instant local midnight of ``day`` in ``tz``, as an aware datetime."""
    return datetime.combine(day, time(), tzinfo=zone(tz))


def to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Period:
    key: str
    tz: str
    first: date  # the 1st of the month
    after: date  # the 1st of the next month (exclusive)

    @property
    def start(self) -> datetime:
        return local_midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        return local_midnight(self.after, self.tz)

    @property
    def days(self) -> int:
        return (self.after - self.first).days

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def previous(self) -> Period:
        return month_period(_shift(self.key, -1), self.tz)

    def next(self) -> Period:
        return month_period(_shift(self.key, 1), self.tz)

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def parse_period_key(text: str) -> tuple[int, int]:
    match = _KEY.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput(f"period {text!r} is not a month like 2026-10")
    return int(match.group(1)), int(match.group(2))


def month_period(key: str, tz: str) -> Period:
    year, month = parse_period_key(key)
    first = date(year, month, 1)
    after = date(year + month // 12, month % 12 + 1, 1)
    zone(tz)
    return Period(f"{year:04d}-{month:02d}", tz, first, after)


def period_at(moment: datetime, tz: str) -> Period:
    """The period containing an instant, in ``tz``."""
    local = moment.astimezone(zone(tz))
    return month_period(f"{local.year:04d}-{local.month:02d}", tz)


def _shift(key: str, months: int) -> str:
    year, month = parse_period_key(key)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class Segment:
    """The days ``[first, after)`` of a period covered by one subscription."""

    period: Period
    first: date
    after: date

    @property
    def days(self) -> int:
        return (self.after - self.first).days

    @property
    def full(self) -> bool:
        return self.first == self.period.first and self.after == self.period.after

    @property
    def start(self) -> datetime:
        return local_midnight(self.first, self.period.tz)

    @property
    def end(self) -> datetime:
        return local_midnight(self.after, self.period.tz)

    def label(self) -> str:
        """``Oct 1–15`` style label for prorated lines (end shown inclusive)."""
        last = self.after - timedelta(days=1)
        return f"{self.first:%b} {self.first.day}–{last.day}" if self.first.month == last.month \
            else f"{self.first:%b} {self.first.day}–{last:%b} {last.day}"


def segment(period: Period, start: date, end: date | None) -> Segment | None:
    """The part of ``period`` covered by a subscription ``[start, end)``; None if disjoint."""
    first = max(start, period.first)
    after = min(end, period.after) if end is not None else period.after
    return Segment(period, first, after) if first < after else None
