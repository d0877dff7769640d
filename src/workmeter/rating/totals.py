"""Exact cost per group for reports with few groups (per customer and month, say).

:func:`~workmeter.rating.aggregate.cost_by` gives, per group, the event count, the exact cost and the
unpriced event count — the same numbers as ``SELECT …, count(*), sum(cost),
count(*) FILTER (WHERE NOT priced) FROM rated_events GROUP BY …``, read in
one snapshot. It is the cheapest exact way there, in up to two passes:

1. every event is joined once to its price row and priced as one BIGINT dot
   product of its counts with the row's whole pico-dollar unit prices
   (``pp_<bucket>``), summed per group as HUGEINT and scaled once at the end.
   A row that can price no event (it has an unpriced reason) carries zero
   prices, so the pass needs no per-event branch: it also counts, per group,
   the events that found a row, the events on rows with a reason, and the
   events the integer product priced (NULL: no row, a price finer than a
   pico-dollar, or an overflow);
2. only when some priced event was not priced by the integer product (a row
   with prices finer than a pico-dollar per unit, or a product past 2^63
   pico-dollars), a second pass adds those events' DECIMAL costs exactly as
   ``rated_events`` computes them (each bucket half-up at 18 decimals).

Events whose key has no row yet (not rated) and events on rows with a reason
are unpriced. So is an event on a row without a price for a bucket the event
used (count > 0): for each bucket some row lacks, the join itself checks
``count <= qmax_<bucket>`` (0 where the price is missing), so such an event
finds no row and counts as unpriced without any per-event branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from workmeter.catalog.model import RATED_BUCKETS
from workmeter.rating.store import (
    PICO,
    QTY_BUCKETS,
    join_sql,
    lookup_sql,
    qty,
    reason_sql,
    slow_sql,
    usage_events_sql,
)

_ROWS, _FAST, _SLOW = "_wm_cb_rows", "_wm_cb_fast", "_wm_cb_slow"
_MAX = 2**63 - 1  # no limit on a bucket's count


def _rows_sql(cards: str) -> str:
    """The lookup rows: zero prices on rows that price nothing, ``dead`` (1: has a reason) and
    ``qmax_<bucket>`` (the largest count an event may have in the bucket to be priced on the row)."""
    zeroed = ", ".join(f"CASE WHEN reason IS NULL THEN pp_{b} ELSE 0 END AS pp_{b}" for b in RATED_BUCKETS)
    qmax = ", ".join(f"CASE WHEN NOT ok AND reason IS NULL AND p_{b} IS NULL THEN 0 ELSE {_MAX} END AS qmax_{b}"
                     for b in QTY_BUCKETS)
    return f"SELECT * REPLACE ({zeroed}), (reason IS NOT NULL)::INTEGER AS dead, {qmax} FROM {lookup_sql(cards)}"


def _checked(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The buckets some row has no price for (the join checks only those)."""
    row = con.execute(f"SELECT {', '.join(f'bool_or(qmax_{b} = 0)' for b in QTY_BUCKETS)} FROM {_ROWS}").fetchone()
    return tuple(b for b, missing in zip(QTY_BUCKETS, row or (), strict=False) if missing)


def _events_sql(where: str, checked: tuple[str, ...]) -> str:
    """Usage events with counts (NULL as 0), the row's prices and ``wm_fast``, filtered by ``where``."""
    counts = ", ".join(f'{qty(b)} AS "{b}"' for b in QTY_BUCKETS)
    dot = " + ".join(f"pp_{b}" if b == "request" else f'"{b}" * pp_{b}' for b in RATED_BUCKETS)
    return f"""(SELECT * FROM (SELECT *, try({dot}) AS wm_fast FROM (
    SELECT e.* EXCLUDE (wm_tod, wm_in) REPLACE ({counts}), {", ".join(f"k.pp_{b}, k.p_{b}" for b in RATED_BUCKETS)},
           {reason_sql()} AS unpriced_reason, k.rid AS wm_rid, k.dead AS wm_dead
    FROM {usage_events_sql()} e {join_sql(_ROWS)}{"".join(f" AND {qty(b)} <= k.qmax_{b}" for b in checked)}) r) r
  WHERE {where})"""


def _keys(groups: Sequence[str]) -> str:
    """``g0, g1, …`` select items, each followed by a comma (none for no groups: one total row)."""
    return "".join(f"{g} AS g{i}, " for i, g in enumerate(groups))


def _fast_sql(groups: Sequence[str], where: str, checked: tuple[str, ...], extras: Sequence[str]) -> str:
    return f"""
SELECT {_keys(groups)}count(*) AS events, sum(wm_fast) AS pico, count(wm_fast) AS fast,
       count(wm_rid) AS matched, coalesce(sum(wm_dead), 0) AS dead{"".join(f", {x} AS x{i}" for i, x in enumerate(extras))}
FROM {_events_sql(where, checked)} r
GROUP BY ALL"""


def _slow_sql(groups: Sequence[str], where: str, checked: tuple[str, ...]) -> str:
    slow = " + ".join(slow_sql(b) for b in RATED_BUCKETS)
    return f"""
SELECT {_keys(groups)}sum({slow}) AS other
FROM {_events_sql(where, checked)} r
WHERE wm_rid IS NOT NULL AND wm_dead = 0 AND wm_fast IS NULL
GROUP BY ALL"""


def _result_sql(n: int, slow: bool, extras: int) -> str:
    names = "".join(f"a.g{i}, " for i in range(n))
    unpriced = "a.events - a.matched + a.dead"
    other = "coalesce(s.other, 0)" if slow else "0"
    on = " AND ".join(f"s.g{i} IS NOT DISTINCT FROM a.g{i}" for i in range(n)) or "TRUE"
    join = f"LEFT JOIN {_SLOW} s ON {on}" if slow else ""
    return f"""
SELECT {names}a.events,
       CASE WHEN a.events > {unpriced} THEN coalesce(a.pico::DECIMAL(38, 0) * {PICO}, 0) + {other} END AS cost,
       {unpriced} AS unpriced_events{"".join(f", a.x{i}" for i in range(extras))}
FROM {_FAST} a {join}
ORDER BY ALL"""


def cost_rows(con: duckdb.DuckDBPyConnection, groups: Sequence[str], where: str, params: Sequence[Any],
              cards: str, extras: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Rows ``(g0, …, events, cost, unpriced_events, x0, …)``, ordered, for the card table ``cards``
    (``extras``: more aggregates over the usage events).

    Run it inside a transaction (one snapshot of the ledger): its temp tables are dropped on
    success, and go with the rollback on error. :func:`~workmeter.rating.aggregate.cost_by`
    tries the integer-cell path (:mod:`workmeter.rating.keyed`) first.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_ROWS} AS {_rows_sql(cards)}")
    checked = _checked(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_FAST} AS {_fast_sql(groups, where, checked, extras)}", list(params))
    missing = con.execute(f"SELECT count(*) FROM {_FAST} WHERE matched > fast").fetchone()
    slow = bool(missing and missing[0])
    if slow:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_SLOW} AS {_slow_sql(groups, where, checked)}", list(params))
    rows = con.execute(_result_sql(len(groups), slow, len(extras))).fetchall()
    for name in (_SLOW, _FAST, _ROWS):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return rows
