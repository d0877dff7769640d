"""Rated usage aggregated before it is priced: the fast path for big reports.

``SELECT … sum(cost) FROM rated_events GROUP BY …`` gives the same numbers;
these queries get them faster on millions of events because cost is linear in
the quantities. Σ over events of (quantity × price) is (Σ quantity) × price
for one price row, so the events are summed per group and *price row* (a
small integer, ``rid`` of :func:`~workmeter.rating.store.lookup_sql`) and only
the small result is priced. Exact, because:

* the price row is chosen per event (validity, time of day and whole-request
  input tier are decided before anything is summed);
* a row whose prices have at most 18 decimals per unit prices every event
  exactly at 18 decimals, so the sum of the events' costs is the cost of the
  summed quantities; a row with finer prices (the view rounds each bucket of
  each event half-up to 18 decimals) keeps the per-event arithmetic of the
  view, summed;
* whether an event is priced depends only on its row and on which buckets
  without a price it used: those events are kept apart by a bit mask (only
  computed on rows missing a price), so a group is wholly priced or unpriced.

Events whose key has no row (a model key not rated yet) are found in the same
snapshot and grouped by their raw key instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb

from workmeter.catalog.model import RATED_BUCKETS
from workmeter.core.errors import StorageError
from workmeter.rating.keyed import keyed_rows
from workmeter.rating.store import (
    NOT_RATED,
    PICO,
    QTY_BUCKETS,
    dot_sql,
    join_sql,
    lookup_sql,
    qty,
    reason_sql,
    slow_sql,
    usage_events_sql,
)
from workmeter.rating.totals import cost_rows
from workmeter.store.duckdb import Database

#: Count columns summed per group (the priced buckets and ``reasoning``).
SUMMED: tuple[str, ...] = (*QTY_BUCKETS, "reasoning")


def cards_sql(run_id: int | None) -> str:
    return "rate_cards_current" if run_id is None else f"(SELECT * FROM rate_cards WHERE run_id = {int(run_id)})"


def _mask(k: str = "k", e: str = "e") -> str:
    """Bit i set when bucket i has no price on the row and the event used it."""
    return " + ".join(f"({k}.p_{b} IS NULL AND {qty(b, e)} > 0)::INTEGER * {1 << i}"
                      for i, b in enumerate(QTY_BUCKETS))


def _sums(e: str = "e") -> str:
    return ", ".join(f'sum({e}."{b}") AS "{b}"' for b in SUMMED)


def _totals(a: str = "a") -> str:
    """The summed counts as the view gives them (priced buckets: NULL counts as 0)."""
    return ", ".join(f'{a}."{b}"' if b == "reasoning" else f'coalesce({a}."{b}", 0) AS "{b}"' for b in SUMMED)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one query needs, read from its lookup rows (one snapshot): skip what no row needs."""

    lookup: str
    inexact: bool  # some row has prices finer than 18 decimals per unit
    checks: bool  # some priced row lacks a bucket's price


def _level1(groups: Mapping[str, str], where: str, extras: Mapping[str, str], plan: _Plan,
            bucket_costs: bool) -> str:
    """Events → (groups, row, mask) sums; inexact rows also sum the view's per-event costs."""
    keys = "".join(f'{sql} AS "{name}", ' for name, sql in groups.items())
    mask = f"CASE WHEN NOT k.ok AND k.reason IS NULL THEN {_mask()} ELSE 0 END" if plan.checks else "0"
    cols = ["count(*) AS events", _sums(), *(f'{sql} AS "{name}"' for name, sql in extras.items())]
    if plan.inexact:
        priced = f'NOT k."exact" AND (k.ok OR ({_mask()}) = 0)'
        slow = [("wm_slow", " + ".join(slow_sql(b, "e", "k") for b in RATED_BUCKETS))]
        slow += [(f"wm_slow_{b}", slow_sql(b, "e", "k")) for b in RATED_BUCKETS] if bucket_costs else []
        cols += [f"sum(CASE WHEN {priced} THEN {expr} END) AS {name}" for name, expr in slow]
    by = [*(str(i + 1) for i in range(len(groups) + 1)), *([str(len(groups) + 2)] if plan.checks else [])]
    return f"""
SELECT {keys}k.rid AS wm_rid, {mask} AS wm_mask, {", ".join(cols)}
FROM {usage_events_sql(where)} e {join_sql(plan.lookup)}
GROUP BY {", ".join(by)}"""


def _unmatched(groups: Mapping[str, str], where: str, extras: Mapping[str, str], lookup: str,
               bucket_costs: bool) -> str:
    """Events without a row, grouped by their raw key (the columns of the priced rows)."""
    keys = "".join(f'{sql} AS "{name}", ' for name, sql in groups.items())
    extra = "".join(f', {sql} AS "{name}"' for name, sql in extras.items())
    inner = f"""
  SELECT {keys}e.provider, e.model, e.service_tier, count(*) AS events, {_sums()}{extra}
  FROM {usage_events_sql(where)} e {join_sql(lookup)}
  WHERE k.rid IS NULL
  GROUP BY ALL"""
    names = "".join(f'a."{name}", ' for name in groups)
    costs = ["cost", *(f"cost_{b}" for b in RATED_BUCKETS)] if bucket_costs else ["cost"]
    return f"""
SELECT {names}a.provider, a.model, a.service_tier, NULL::VARCHAR AS catalog_provider,
       NULL::VARCHAR AS catalog_model, NULL::VARCHAR AS catalog_version, NULL::INTEGER AS rating_run,
       '{NOT_RATED}' AS unpriced_reason, a.events, {_totals()},
       {", ".join(f"NULL::DECIMAL(38, 18) AS {c}" for c in costs)}{"".join(f', a."{name}"' for name in extras)}
FROM ({inner}) a"""


def _linear(buckets: Sequence[str]) -> str:
    """Σ quantity × price (DECIMAL(38, 18), exact, overflow-checked) for a row with ``exact`` prices."""
    terms = ["a.events::DECIMAL(38, 0) * k.p18_request" if b == "request"
             else f'coalesce(a."{b}", 0)::DECIMAL(38, 0) * k.p18_{b}' for b in buckets]
    return " + ".join(terms)


def _level2(groups: Mapping[str, str], level1: str, extras: Mapping[str, str], plan: _Plan,
            bucket_costs: bool) -> str:
    """(groups, row, mask) sums → priced rows with the key, catalog columns, reason and cost."""
    keys = "".join(f'a."{name}", ' for name in groups)
    checks = " ".join(f"WHEN a.wm_mask & {1 << i} <> 0 THEN 'no price for bucket {b}'"
                      for i, b in enumerate(QTY_BUCKETS))
    reason = f"CASE WHEN k.ok THEN NULL WHEN k.reason IS NOT NULL THEN k.reason {checks} END"
    costs = [("cost", _linear(RATED_BUCKETS), "a.wm_slow")]
    if bucket_costs:
        costs += [(f"cost_{b}", _linear((b,)), f"a.wm_slow_{b}") for b in RATED_BUCKETS]
    cost_cols = ", ".join(
        f"CASE WHEN ({reason}) IS NULL THEN "
        + (f'CASE WHEN k."exact" THEN {lin} ELSE {slow} END' if plan.inexact else lin) + f" END AS {name}"
        for name, lin, slow in costs)
    extra = "".join(f', a."{name}"' for name in extras)
    return f"""
SELECT {keys}k.provider, k.model, k.service_tier, k.catalog_provider, k.catalog_model, k.catalog_version,
       k.run_id AS rating_run, {reason} AS unpriced_reason, a.events, {_totals()}, {cost_cols}{extra}
FROM {level1} a JOIN {plan.lookup} k ON k.rid = a.wm_rid"""


@contextmanager
def rated_sums(con: duckdb.DuckDBPyConnection, groups: Mapping[str, str], where: str = "TRUE",
               params: Any = None, *, extras: Mapping[str, str] | None = None, bucket_costs: bool = False,
               run_id: int | None = None, prefix: str = "_wm_rs") -> Iterator[str]:
    """Yield a relation (SQL): rated usage events summed per group and price row.

    ``groups`` maps column names to SQL over a usage event ``e`` (every
    ``live_events`` column; ``where`` filters them, with ``params``);
    ``extras`` maps names to more aggregates over ``e`` (e.g. ``min(e.time)``).
    Columns: the groups; ``provider``, ``model``, ``service_tier`` as sent;
    ``catalog_provider``, ``catalog_model``, ``catalog_version``,
    ``rating_run``, ``unpriced_reason`` (NULL: priced) as in ``rated_events``;
    ``events``; the sums of every priced bucket and ``reasoning`` (NULL counts
    as 0, except ``reasoning``: NULL when all are NULL); ``cost`` (exact
    DECIMAL(38, 18), NULL when unpriced); ``cost_<bucket>`` with
    ``bucket_costs``; the extras. Summing a column over rows gives what the
    same sum over ``rated_events`` gives. The ledger is read in one snapshot;
    the relation reads temp tables (named from ``prefix``) dropped on exit.
    """
    extras = dict(extras or {})
    lookup, level1, unmatched = f"{prefix}_rows", f"{prefix}_sums", f"{prefix}_new"
    params = params if params is not None else []
    with snapshot(con):  # on error the rollback takes the temp tables with it
        con.execute(f"CREATE OR REPLACE TEMP TABLE {lookup} AS SELECT * FROM {lookup_sql(cards_sql(run_id))}")
        flags = con.execute(f'SELECT bool_or(NOT "exact"), bool_or(NOT ok AND reason IS NULL) FROM {lookup}'
                            ).fetchone()
        plan = _Plan(lookup, bool(flags and flags[0]), bool(flags and flags[1]))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {level1} AS {_level1(groups, where, extras, plan, bucket_costs)}",
                    params)
        sql = _level2(groups, level1, extras, plan, bucket_costs)
        found = con.execute(f"SELECT count(*) FROM {level1} WHERE wm_rid IS NULL").fetchone()
        if found and found[0]:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {unmatched} AS "
                        f"{_unmatched(groups, where, extras, lookup, bucket_costs)}", params)
            sql += f"\nUNION ALL BY NAME SELECT * FROM {unmatched}"
        yield f"({sql})"
        for name in (unmatched, level1, lookup):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def rated_usage(con: duckdb.DuckDBPyConnection, table: str, groups: Mapping[str, str], where: str = "TRUE",
                params: Any = None, *, extras: Mapping[str, str] | None = None, bucket_costs: bool = False,
                run_id: int | None = None) -> None:
    """Temp table ``table`` with the rows of :func:`rated_sums`."""
    with rated_sums(con, groups, where, params, extras=extras, bucket_costs=bucket_costs, run_id=run_id,
                    prefix=table) as rel:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {rel}")


@contextmanager
def snapshot(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the statements of the block in one transaction (one snapshot of the ledger).

    Committed at the end (temp tables made inside stay), rolled back on error. The
    cursor must have no open transaction: DuckDB aborts an open transaction when
    another BEGIN is tried inside it, so that is refused before anything runs.
    """
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException as exc:
        raise StorageError("a report snapshot needs a cursor without an open transaction") from exc
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def cost_by_sql(groups: Sequence[str], where: str = "TRUE", run_id: int | None = None) -> str:
    """SQL: ``groups`` (SQL expressions over rated_events columns, aliased g0, g1, …) → events, cost,
    unpriced_events; ``where`` filters events (``?`` parameters allowed).

    For few groups: each priced event's exact pico-dollar product (BIGINT) is
    summed as HUGEINT and scaled once; an event without one (prices finer
    than pico-dollars, or a product past BIGINT) adds the view's DECIMAL cost.
    """
    keys = ", ".join(f"{g} AS g{i}" for i, g in enumerate(groups))
    names = ", ".join(f"g{i}" for i in range(len(groups)))
    slow = " + ".join(slow_sql(b) for b in RATED_BUCKETS)
    return f"""
SELECT {names}, events,
       CASE WHEN events > unpriced_events THEN coalesce(pico::DECIMAL(38, 0) * {PICO}, 0) + coalesce(other, 0) END
         AS cost, unpriced_events
FROM (
  SELECT {keys}, count(*) AS events, sum(fast) AS pico,
         sum(CASE WHEN unpriced_reason IS NULL AND fast IS NULL THEN {slow} END) AS other,
         count(*) FILTER (WHERE unpriced_reason IS NOT NULL) AS unpriced_events
  FROM (SELECT *, CASE WHEN unpriced_reason IS NULL THEN try({dot_sql(RATED_BUCKETS)}) END AS fast FROM (
    SELECT e.* EXCLUDE (wm_tod, wm_in) REPLACE ({", ".join(f'{qty(b)} AS "{b}"' for b in QTY_BUCKETS)}),
           {", ".join(f"k.pp_{b}, k.p_{b}" for b in RATED_BUCKETS)}, {reason_sql()} AS unpriced_reason
    FROM {usage_events_sql()} e {join_sql(lookup_sql(cards_sql(run_id)))}) r) r
  WHERE {where}
  GROUP BY ALL)
ORDER BY ALL"""


def cost_by(db: Database, groups: Sequence[str], where: str = "TRUE", params: Sequence[Any] = (),
            run_id: int | None = None, by_key: bool = True, extras: Sequence[str] = (),
            stored_cells: bool = True) -> list[dict[str, Any]]:
    """Rows ``{g0, …, events, cost, unpriced_events, x0, …}`` (call ``Rater.refresh()`` first for new keys).

    The same rows as :func:`cost_by_sql`, in one snapshot, by the integer fast paths of
    :mod:`workmeter.rating.keyed` and :mod:`workmeter.rating.totals` (``by_key=False``: the
    string-join path only); ``groups``, ``where`` and ``extras`` (more aggregates, e.g.
    ``sum(input)``) read the usage event's ``live_events`` columns. ``stored_cells=False``
    computes every event's price cell instead of reading the one stored at ingest.
    """
    cur = db.read()
    names = [*(f"g{i}" for i in range(len(groups))), "events", "cost", "unpriced_events",
             *(f"x{i}" for i in range(len(extras)))]
    with snapshot(cur):
        cards = cards_sql(run_id)
        rows = keyed_rows(cur, groups, where, params, cards, extras, stored_cells) if by_key else None
        if rows is None:
            rows = cost_rows(cur, groups, where, params, cards, extras)
    return [dict(zip(names, row, strict=True)) for row in rows]

