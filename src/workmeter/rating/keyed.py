"""Cost per group with prices picked by integer cell, no string join (the fastest exact path).

Every usage event carries ``rate_key``, a dense integer for its (provider,
model, service_tier) (``usage_keys``). For one query, the card rows of every
key are cut along the dimensions that matter inside the ledger's time span:

* time: each ``valid_from`` / ``valid_to`` between the first and the last
  event (a rating run or a price change);
* whole-request input: each tier threshold (long-context prices);
* time of day: each window edge (off-peak prices);
* use of a bucket some priced row has no price for (an event that uses it
  is unpriced on that row: "no price for bucket …").

An event's *cell* is its key and its slot along each dimension, one integer
(``rate_key × M + Σ slot × stride``) computed with a few integer operations
(time of day, which needs a division, only for the keys priced by it). The
cells table holds, for every cell, the whole pico-dollar price per unit of
each bucket of the one card row covering it (every row boundary is a cell
boundary), or ``dead`` = 1 where that row prices nothing (a reason, a used
bucket without a price, or a key not rated yet). Events meet their prices in
one join on a small dense integer (DuckDB's perfect hash join); per group the
query sums the BIGINT dot products and counts the events and the dead ones.

When the columns' statistics bound every product below 2^63 pico-dollars the
dot product runs unchecked; otherwise it runs under ``try`` and an overflow
sends the query to the string-join path. :func:`keyed_rows` answers ``None``
whenever this path does not apply — usage rows without a rate key (written by
something other than the ledger), prices finer than a pico-dollar, too many
cells, or an overflow — and the caller uses the string-join path, which is
exact for everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import duckdb
import pyarrow as pa

from workmeter.catalog.model import DAY_US, IN_MAX, RATED_BUCKETS
from workmeter.rating.store import PICO, QTY_BUCKETS
from workmeter.store.duckdb import first

_MAX_CELLS = 250_000
_BIGINT = 2**63 - 1
_CELLS = "_wm_kc_cells"
_SUMS = "_wm_kc_sums"
_ROWS = "_wm_kc_rows"
_INPUTS = ("input", "cache_read", "cache_write_5m", "cache_write_1h")


@dataclass(frozen=True, slots=True)
class _Row:
    key: int
    bounds: tuple[tuple[int, int], ...]  # [lo, hi) along time (µs since the epoch), total input, time of day
    prices: tuple[int, ...] | None  # whole pico-dollars per unit, RATED_BUCKETS order; None: prices nothing
    missing: frozenset[str]  # buckets without a price (an event using one is unpriced on this row)

    def covers(self, point: tuple[int, ...]) -> bool:
        return all(lo <= v < hi for (lo, hi), v in zip(self.bounds, point, strict=False))


def _card_rows(con: duckdb.DuckDBPyConnection, cards: str) -> list[_Row] | None:
    """The card rows of every usage key; None if a price is finer than a pico-dollar or negative."""
    pp = ", ".join(f"c.pp_{b}" for b in RATED_BUCKETS)
    missing = ", ".join(f"c.p_{b} IS NULL" for b in QTY_BUCKETS)
    rows = con.execute(f"""
SELECT u.key_id, epoch_us(c.valid_from), epoch_us(c.valid_to), c.in_lo, c.in_hi, c.tod_lo, c.tod_hi,
       c.reason IS NOT NULL, c.pico, {pp}, {missing}
FROM usage_keys u JOIN {cards} c ON c.provider = coalesce(u.provider, '') AND c.model = coalesce(u.model, '')
  AND c.service_tier = coalesce(u.service_tier, '')""").fetchall()
    out: list[_Row] = []
    n = len(RATED_BUCKETS)
    for key, t_lo, t_hi, in_lo, in_hi, tod_lo, tod_hi, dead, pico, *rest in rows:
        pps, gone = rest[:n], rest[n:]
        if not dead and (not pico or any(p < 0 for p in pps)):
            return None
        absent = frozenset(b for b, g in zip(QTY_BUCKETS, gone, strict=True) if g)
        out.append(_Row(key, ((t_lo, t_hi), (in_lo, in_hi), (tod_lo, tod_hi)),
                        None if dead else tuple(pps), frozenset() if dead else absent))
    return out


@dataclass(frozen=True, slots=True)
class _Dim:
    """One dimension of the cell: the value's SQL, its cut points, the keys whose prices it splits."""

    axis: int | str  # a row axis (0 time, 1 total input, 2 time of day), or a bucket's use
    value: str
    cuts: tuple[int, ...]
    keys: frozenset[int]
    gated: bool = False  # compute the value only for ``keys`` (an expensive value)

    @property
    def slots(self) -> int:
        return len(self.cuts) + 1

    def starts(self, floor: int) -> list[int]:
        return [floor, *self.cuts]

    def sql(self) -> str:
        slot = " + ".join(f"({self.value} >= {c})::INTEGER" for c in self.cuts)
        if not self.gated:
            return f"({slot})"
        return f"(CASE WHEN rate_key IN ({', '.join(map(str, sorted(self.keys)))}) THEN {slot} ELSE 0 END)"


def _cut_dim(value: str, rows: list[_Row], axis: int, lo: int, hi: int, gated: bool = False) -> _Dim:
    """Cut points of a row axis strictly inside (lo, hi], and the keys whose rows have them."""
    cuts: set[int] = set()
    keys: set[int] = set()
    for r in rows:
        for v in r.bounds[axis]:
            if lo < v <= hi:
                cuts.add(v)
                keys.add(r.key)
    return _Dim(axis, value, tuple(sorted(cuts)), frozenset(keys), gated)


def _dims(rows: list[_Row], lo: int, hi: int) -> list[_Dim]:
    """The dimensions that split some key's prices in the ledger's span [lo, hi] (µs)."""
    day0 = lo // DAY_US * DAY_US  # every event is at or after it: one modulo gives the time of day
    found = [_cut_dim("epoch_us(time)", rows, 0, lo, hi), _cut_dim(" + ".join(_INPUTS), rows, 1, 0, IN_MAX - 1),
             _cut_dim(f"((epoch_us(time) - {day0}) % {DAY_US})", rows, 2, 0, DAY_US - 1, gated=True)]
    for b in QTY_BUCKETS:
        keys = frozenset(r.key for r in rows if b in r.missing)
        if keys:
            found.append(_Dim(b, f'"{b}"', (1,), keys))
    return [d for d in found if d.cuts]


def _strides(dims: list[_Dim]) -> list[int]:
    out, stride = [], 1
    for d in reversed(dims):
        out.append(stride)
        stride *= d.slots
    return [*reversed(out), stride]  # the last one: cells per key


def _cells(rows: list[_Row], keys: list[int], dims: list[_Dim], lo: int) -> pa.Table | None:
    """Every cell's prices: the row covering the cell's first point, dead if it prices nothing there."""
    strides = _strides(dims)
    per_key = strides[-1]
    if (max(keys, default=0) + 1) * per_key > _MAX_CELLS:
        return None
    by_key: dict[int, list[_Row]] = {}
    for r in rows:
        by_key.setdefault(r.key, []).append(r)
    ids: list[int] = []
    prices: list[tuple[int, ...] | None] = []
    for key in keys:
        own = by_key.get(key, [])  # none: a key not rated yet
        for slots in product(*(range(d.slots) for d in dims)):
            point = [lo, 0, 0]
            used: set[str] = set()
            for d, s in zip(dims, slots, strict=True):
                if isinstance(d.axis, int):
                    point[d.axis] = d.starts(lo if d.axis == 0 else 0)[s]
                elif s:
                    used.add(d.axis)
            row = next((r for r in own if r.covers(tuple(point))), None)
            ok = row is not None and row.prices is not None and not (used & row.missing)
            ids.append(key * per_key + sum(s * st for s, st in zip(slots, strides, strict=False)))
            prices.append(row.prices if ok and row else None)
    cols: dict[str, pa.Array] = {"c": pa.array(ids, pa.int32())}
    for j, b in enumerate(RATED_BUCKETS):
        cols[f"pp_{b}"] = pa.array([p[j] if p else 0 for p in prices], pa.int64())
    cols["dead"] = pa.array([None if p else 1 for p in prices], pa.int8())
    return pa.table(cols)


def _keys(groups: Sequence[str]) -> str:
    return "".join(f"{g} AS g{i}, " for i, g in enumerate(groups))


def _sums_sql(groups: Sequence[str], where: str, dims: list[_Dim], checked: bool,
              extras: Sequence[str] = ()) -> str:
    """Per group: events, Σ pico-dollar dot products, dead events (and priced products under ``try``),
    then the ``extras`` (aggregates over the event columns) as ``x0``, ``x1``, …"""
    strides = _strides(dims)
    cell = " + ".join([f"rate_key * {strides[-1]}", *(f"{d.sql()} * {st}" for d, st in zip(dims, strides,
                                                                                           strict=False))])
    dot = " + ".join("k.pp_request" if b == "request" else f'e."{b}" * k.pp_{b}' for b in RATED_BUCKETS)
    dot = f"try({dot})" if checked else dot
    return f"""
SELECT {_keys(groups)}count(*) AS events, sum(wm_d) AS pico, count(wm_dead) AS dead{
    ", count(wm_d) AS products" if checked else ""}{"".join(f", {x} AS x{i}" for i, x in enumerate(extras))}
FROM (
  SELECT e.*, {dot} AS wm_d, k.dead AS wm_dead
  FROM (SELECT * FROM live_events WHERE type = 'llm.usage' AND ({where})) e
  JOIN {_CELLS} k ON k.c = {cell}
) e
GROUP BY ALL"""


def _bounded(con: duckdb.DuckDBPyConnection, cells: pa.Table) -> bool:
    """Whether the columns' statistics bound every event's dot product below 2^63 pico-dollars."""
    parts = ", ".join(f'min("{b}"), max("{b}")' for b in QTY_BUCKETS)
    stats = [first(con.execute(f"SELECT {parts} FROM {t} WHERE type = 'llm.usage'"))
             for t in ("events", "corrections")]
    bound = max(cells["pp_request"].to_pylist(), default=0)
    for i, b in enumerate(QTY_BUCKETS):
        lows = [r[2 * i] for r in stats if r and r[2 * i] is not None]
        highs = [r[2 * i + 1] for r in stats if r and r[2 * i + 1] is not None]
        if lows and min(lows) < 0:
            return False
        bound += max(highs, default=0) * max(cells[f"pp_{b}"].to_pylist(), default=0)
    return bound <= _BIGINT


def keyed_table(con: duckdb.DuckDBPyConnection, table: str, groups: Sequence[str], where: str,
                params: Sequence[Any] | Mapping[str, Any], cards: str, extras: Sequence[str] = ()) -> bool:
    """Temp table ``table``: ``(g0, …, events, cost, unpriced_events, x0, …)`` per group; False (and
    no table) when this path does not apply — use another.

    ``where`` filters the usage events' ``live_events`` columns (``params``: positional or
    named); ``extras`` are more aggregates over them. Run it inside a transaction (one
    snapshot of the ledger)."""
    keyed = first(con.execute(  # stored usage rows without a rate key, and the key range (statistics)
        "SELECT (SELECT count(*) FROM events WHERE type = 'llm.usage' AND rate_key IS NULL)"
        " + (SELECT count(*) FROM corrections WHERE type = 'llm.usage' AND rate_key IS NULL),"
        " least((SELECT min(rate_key) FROM events), (SELECT min(rate_key) FROM corrections)),"
        " greatest((SELECT max(rate_key) FROM events), (SELECT max(rate_key) FROM corrections),"
        " (SELECT max(key_id) FROM usage_keys))"))
    span = first(con.execute(
        "SELECT epoch_us(min(t)), epoch_us(max(t)) FROM (SELECT min(time) AS t FROM events "
        "UNION ALL SELECT max(time) FROM events UNION ALL SELECT min(time) FROM corrections "
        "UNION ALL SELECT max(time) FROM corrections)"))
    rows = _card_rows(con, cards)
    if keyed is None or keyed[0] or (keyed[1] is not None and keyed[1] < 0) or rows is None:
        return False
    if span is None or span[0] is None:
        return False
    lo, hi = int(span[0]), int(span[1])
    keys = list(range(int(keyed[2] or 0) + 1))  # every id a row can carry has cells (no row is dropped)
    dims = _dims(rows, lo, hi)
    cells = _cells(rows, keys, dims, lo)
    if cells is None:
        return False
    checked = not _bounded(con, cells)
    con.register("_wm_kc_arrow", cells)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_CELLS} AS SELECT * FROM _wm_kc_arrow")
    finally:
        con.unregister("_wm_kc_arrow")
    args = params if isinstance(params, Mapping) else list(params)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_SUMS} AS {_sums_sql(groups, where, dims, checked, extras)}", args)
    short = first(con.execute(f"SELECT count(*) FROM {_SUMS} WHERE products < events")) if checked else (0,)
    done = not (short and short[0])
    if done:
        names = "".join(f"g{i}, " for i in range(len(groups)))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
SELECT {names}events, CASE WHEN events > dead THEN pico::DECIMAL(38, 0) * {PICO} END AS cost, dead AS unpriced_events{
    "".join(f", x{i}" for i in range(len(extras)))}
FROM {_SUMS}""")
    for name in (_SUMS, _CELLS):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return done


def keyed_rows(con: duckdb.DuckDBPyConnection, groups: Sequence[str], where: str, params: Sequence[Any],
               cards: str, extras: Sequence[str] = ()) -> list[tuple[Any, ...]] | None:
    """Rows ``(g0, …, events, cost, unpriced_events, x0, …)``, ordered, or None (use another path).

    ``extras`` are more aggregates over the usage events' ``live_events`` columns. Run it inside
    a transaction (one snapshot of the ledger)."""
    if not keyed_table(con, _ROWS, groups, where, params, cards, extras):
        return None
    rows = con.execute(f"SELECT * FROM {_ROWS} ORDER BY ALL").fetchall()
    con.execute(f"DROP TABLE {_ROWS}")
    return rows
