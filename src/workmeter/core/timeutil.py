"""Time parsing for user input: RFC 3339 instants, dates, and months (UTC unless an offset is given)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from workmeter.core.errors import InvalidInput


def parse_instant(text: str, *, field: str = "time") -> datetime:
    """``2026-10-01``, ``2026-10``, ``2026-10-01T12:00:00Z`` or with an offset → aware datetime."""
    value = text.strip()
    try:
        if len(value) == 7:  # YYYY-MM
            return datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date or RFC 3339 time", where=field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_day(text: str, field: str) -> date:
    """``2026-10-01`` → that date; anything else is an error naming ``field``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date like 2026-10-01", where=field) from None


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """``2026-10`` → [2026-10-01, 2026-11-01) in UTC."""
    start = parse_instant(period, field="period")
    if len(period.strip()) != 7:
        raise InvalidInput(f"{period!r} is not a month like 2026-10", where="period")
    nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, nxt


def optional(text: str | None, field: str) -> datetime | None:
    return parse_instant(text, field=field) if text else None
