"""UTC calendar buckets of an event time, in SQL, without time zone code.

Reports bucket events by UTC day and UTC month (the session time zone is
UTC). ``date_trunc('month', time)`` on a ``TIMESTAMPTZ`` goes through
DuckDB's ICU time zone functions, which cost more than the rest of a plain
``SUM`` over the ledger. These helpers give the same calendar bucket through
the time's UTC microseconds (``epoch_us``) and a plain ``TIMESTAMP``, where
the calendar arithmetic is fixed-offset:

* :func:`utc_month_sql` / :func:`utc_day_sql` — the first instant of the UTC
  month / day as a ``TIMESTAMP`` (UTC wall time, no zone): group by these;
* :func:`utc_month_text_sql` / :func:`utc_day_text_sql` — the same bucket as
  text, ``'2025-04'`` / ``'2025-04-30'``.

For every time, ``utc_month_sql(t)`` equals ``date_trunc('month', t)`` read in
UTC (and ``utc_day_sql`` the day), including times before 1970 and the last
microsecond of a month; the tests check this against Python's calendar.
Every argument is SQL for a ``TIMESTAMPTZ`` (or ``TIMESTAMP``) value; NULL
gives NULL.
"""

from __future__ import annotations

__all__ = ["utc_day_sql", "utc_day_text_sql", "utc_month_sql", "utc_month_text_sql", "utc_timestamp_sql"]


def utc_timestamp_sql(col: str) -> str:
    """The UTC wall time of ``col`` as a plain ``TIMESTAMP`` (same microseconds, no ICU)."""
    return f"make_timestamp(epoch_us({col}))"


def utc_month_sql(col: str) -> str:
    """First instant of the UTC month of ``col``, a ``TIMESTAMP``."""
    return f"date_trunc('month', {utc_timestamp_sql(col)})"


def utc_day_sql(col: str) -> str:
    """First instant of the UTC day of ``col``, a ``TIMESTAMP``."""
    return f"date_trunc('day', {utc_timestamp_sql(col)})"


def utc_month_text_sql(col: str) -> str:
    """The UTC month of ``col`` as ``'YYYY-MM'``."""
    return f"strftime({utc_timestamp_sql(col)}, '%Y-%m')"


def utc_day_text_sql(col: str) -> str:
    """The UTC day of ``col`` as ``'YYYY-MM-DD'``."""
    return f"strftime({utc_timestamp_sql(col)}, '%Y-%m-%d')"
