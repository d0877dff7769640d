"""The UTC day/month buckets in SQL equal Python's UTC calendar, for any time and any offset it was sent with."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workmeter.store.sqltime import utc_day_sql, utc_day_text_sql, utc_month_sql, utc_month_text_sql

offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
# the inner range keeps every local wall time (any offset) inside Python's year 1..9999
times = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    yield c
    c.close()


def buckets(con: duckdb.DuckDBPyConnection, ts: list[datetime]) -> list[tuple[object, ...]]:
    """(month, day, month text, day text, date_trunc month, date_trunc day) per time, in order."""
    sql = (f"SELECT {utc_month_sql('t')}, {utc_day_sql('t')}, {utc_month_text_sql('t')}, {utc_day_text_sql('t')}, "
           "date_trunc('month', t), date_trunc('day', t) "
           "FROM (SELECT unnest(?::TIMESTAMPTZ[]) AS t, generate_subscripts(?::TIMESTAMPTZ[], 1) AS i) ORDER BY i")
    return con.execute(sql, [ts, ts]).fetchall()


def expected(t: datetime) -> tuple[datetime, datetime, str, str]:
    u = t.astimezone(UTC).replace(tzinfo=None)
    day = u.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.replace(day=1), day, f"{u.year:04d}-{u.month:02d}", f"{u.year:04d}-{u.month:02d}-{u.day:02d}"


@settings(max_examples=60, deadline=None)
@given(st.lists(times, min_size=1, max_size=40))
def test_buckets_are_the_utc_calendar_month_and_day(con: duckdb.DuckDBPyConnection, ts: list[datetime]) -> None:
    for t, row in zip(ts, buckets(con, ts), strict=True):
        assert row[:4] == expected(t), t
        # and the same bucket date_trunc gives on TIMESTAMPTZ in a UTC session
        assert row[0] == row[4].replace(tzinfo=None) and row[1] == row[5].replace(tzinfo=None), t


def month_edges() -> list[datetime]:
    """The first and last microsecond of every month of a few years (leap, century, pre-1970)."""
    out: list[datetime] = []
    for year in (1, 1899, 1900, 1969, 1970, 2000, 2024, 2025, 2100, 9999):
        for month in range(1, 13):
            start = datetime(year, month, 1, tzinfo=UTC)
            out.append(start)
            if start > datetime(1, 1, 1, tzinfo=UTC):
                out.append(start - timedelta(microseconds=1))
    return out


def test_month_edges_fall_in_the_right_month(con: duckdb.DuckDBPyConnection) -> None:
    ts = month_edges()
    for t, row in zip(ts, buckets(con, ts), strict=True):
        assert row[:4] == expected(t), t


def test_a_negative_offset_late_evening_is_the_next_utc_month(con: duckdb.DuckDBPyConnection) -> None:
    t = datetime(2025, 3, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5)))  # 2025-04-01 01:00 UTC
    assert buckets(con, [t])[0][:4] == (datetime(2025, 4, 1), datetime(2025, 4, 1), "2025-04", "2025-04-01")


def test_buckets_ignore_the_session_time_zone() -> None:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'America/New_York'")
    t = datetime(2025, 4, 1, 2, 0, tzinfo=UTC)  # still March 31 in New York
    assert buckets(c, [t])[0][:4] == (datetime(2025, 4, 1), datetime(2025, 4, 1), "2025-04", "2025-04-01")
    c.close()
