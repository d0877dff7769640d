"""Cost per group with prices picked by integer cell, no string join (the fastest exact path).

Every usage event carries ``rate_key``, a dense integer for its (provider,
model, service_tier) (``usage_keys``). A key's card rows are cut along the
dimensions that split its prices:

* time: each ``valid_from`` / ``valid_to`` (a rating run or a price change);
* whole-request input: each tier threshold (long-context prices);
* time of day: each window edge (off-peak prices);
* use of a bucket some row of the key has no price for (an event that uses
  it is unpriced on that row: "no price for bucket …").

A cut is kept only where the prices on its two sides differ (a rating run
that changes nothing for a key does not split it). A key with no cut has one
cell, its own number; a key with cuts has one cell per slot combination,
numbered below zero. The :class:`Layout` is this numbering: a ``CASE`` on
``rate_key`` that gives each event its *cell* from a few integer operations
(time of day, which needs a modulo, only for the keys priced by it).

The ledger stores every usage event's cell at ingest (``rate_cell``; 0 on
other events) under the layout of the current cards, kept in ``meta``
(``rate_cells``); when the current cards change (:func:`store_cells`, in the
same transaction) the cells of the keys whose layout changed are rewritten.
A query under the current cards then joins on the stored cell; under other
cards (an older rating run) it computes the cell with the same ``CASE``, and
where some row has no stored cell (written by something other than the
ledger) it computes that row's. Either way the result is the same.

The cells table holds, for every cell, the whole pico-dollar price per unit
of each bucket of the one card row covering it (every row boundary is a
cell boundary), or ``dead`` = 1 where that row prices nothing (a reason, a
used bucket without a price, or a key not rated yet). Events meet their
prices in one join on a small dense integer (DuckDB's perfect hash join);
per group the query sums the BIGINT dot products and counts the events and
the dead ones.

When the columns' statistics bound every product below 2^63 pico-dollars the
dot product runs unchecked; otherwise it runs under ``try`` and an overflow
sends the query to the string-join path. :func:`keyed_rows` answers ``None``
whenever this path does not apply — usage rows without a rate key (written by
something other than the ledger), prices finer than a pico-dollar, too many
cells, or an overflow — and the caller uses the string-join path, which is
exact for everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any

import duckdb
import pyarrow as pa

from workmeter.catalog.model import DAY_US, IN_MAX, RATED_BUCKETS
from workmeter.rating.store import PICO, QTY_BUCKETS
from workmeter.store.duckdb import count_of, first
from workmeter.store.schema import CELL_PREFIX as _P
from workmeter.store.schema import META_CELLS as META_KEY
from workmeter.store.schema import cell_sql, stored_cell_sql

_MAX_CELLS = 250_000
_BIGINT = 2**63 - 1
_CELLS = "_wm_kc_cells"
_SUMS = "_wm_kc_sums"
_INPUTS = ("input", "cache_read", "cache_write_5m", "cache_write_1h")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
#: the open ends of a card's time (its first row starts at year 1, its last ends at 9999)
_T_MIN = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // _US
_T_MAX = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - _EPOCH) // _US
#: per row axis: (floor, open end) — time (µs since the epoch), whole-request input, time of day (µs)
_AXES = ((_T_MIN, _T_MAX), (0, IN_MAX), (0, DAY_US))


@dataclass(frozen=True, slots=True)
class _Row:
    key: int
    bounds: tuple[tuple[int, int], ...]  # [lo, hi) along time (µs since the epoch), total input, time of day
    prices: tuple[int, ...] | None  # whole pico-dollars per unit, RATED_BUCKETS order; None: prices nothing
    missing: frozenset[str]  # buckets without a price (an event using one is unpriced on this row)

    def covers(self, point: Sequence[int]) -> bool:
        return all(lo <= v < hi for (lo, hi), v in zip(self.bounds, point, strict=False))


def _card_rows(con: duckdb.DuckDBPyConnection, cards: str) -> list[_Row] | None:
    """The card rows of every usage key; None if a price is finer than a pico-dollar or negative."""
    pp = ", ".join(f"c.pp_{b}" for b in RATED_BUCKETS)
    missing = ", ".join(f"c.p_{b} IS NULL" for b in QTY_BUCKETS)
    rows = con.execute(f"""
SELECT u.key_id, epoch_us(c.valid_from), epoch_us(c.valid_to), c.in_lo, c.in_hi, c.tod_lo, c.tod_hi,
       c.reason IS NOT NULL, c.pico, {pp}, {missing}
FROM usage_keys u JOIN {cards} c ON c.provider = coalesce(u.provider, '') AND c.model = coalesce(u.model, '')
  AND c.service_tier = coalesce(u.service_tier, '')
ORDER BY ALL""").fetchall()
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
    """One dimension of a key's cells: a row axis (0 time, 1 total input, 2 time of day) or a
    bucket's use, and its cut points."""

    axis: int | str
    cuts: tuple[int, ...]

    @property
    def slots(self) -> int:
        return len(self.cuts) + 1

    def value(self) -> str:
        if self.axis == 0:
            return f'epoch_us({_P}"time")'
        if self.axis == 1:
            return "(" + " + ".join(f'coalesce({_P}"{b}", 0)' for b in _INPUTS) + ")"
        if self.axis == 2:  # UTC time of day, also before 1970
            return f'((epoch_us({_P}"time") % {DAY_US} + {DAY_US}) % {DAY_US})'
        return f'coalesce({_P}"{self.axis}", 0)'

    def slot_sql(self) -> str:
        value = self.value()
        return "(" + " + ".join(f"({value} >= {c})::INTEGER" for c in self.cuts) + ")"


def _value(rows: list[_Row], dims: Sequence[_Dim], slots: Sequence[int]) -> tuple[int, ...] | None:
    """The prices of the cell ``slots`` of one key's rows (None: it prices nothing there)."""
    point = [lo for lo, _ in _AXES]
    used: set[str] = set()
    for d, s in zip(dims, slots, strict=True):
        if isinstance(d.axis, int):
            point[d.axis] = ([_AXES[d.axis][0], *d.cuts])[s]
        elif s:
            used.add(d.axis)
    row = next((r for r in rows if r.covers(point)), None)
    return row.prices if row is not None and row.prices is not None and not (used & row.missing) else None


def _key_dims(rows: list[_Row]) -> list[_Dim]:
    """The dimensions that split one key's prices: every row boundary, then only the cuts with
    different prices on their two sides."""
    dims: list[_Dim] = []
    for axis, (lo, hi) in enumerate(_AXES):
        cuts = sorted({v for r in rows for v in r.bounds[axis] if lo < v < hi})
        if cuts:
            dims.append(_Dim(axis, tuple(cuts)))
    dims += [_Dim(b, (1,)) for b in QTY_BUCKETS if any(b in r.missing for r in rows)]
    grid = {s: _value(rows, dims, s) for s in product(*(range(d.slots) for d in dims))}
    i = 0
    while i < len(dims):
        d, j = dims[i], 0
        while j < len(d.cuts):
            if all(v == grid[(*s[:i], j + 1, *s[i + 1:])] for s, v in grid.items() if s[i] == j):
                # slots j and j + 1 price alike everywhere: drop the cut between them
                grid = {(*s[:i], s[i] - (s[i] > j), *s[i + 1:]): v for s, v in grid.items() if s[i] != j + 1}
                d = dims[i] = _Dim(d.axis, d.cuts[:j] + d.cuts[j + 1:])
            else:
                j += 1
        if d.cuts:
            i += 1
        else:
            grid = {(*s[:i], *s[i + 1:]): v for s, v in grid.items()}
            del dims[i]
    return dims


def _strides(dims: Sequence[_Dim]) -> list[int]:
    out, stride = [], 1
    for d in reversed(dims):
        out.append(stride)
        stride *= d.slots
    return [*reversed(out), stride]  # the last one: cells of the key


def _by_key(rows: list[_Row]) -> dict[int, list[_Row]]:
    out: dict[int, list[_Row]] = {}
    for r in rows:
        out.setdefault(r.key, []).append(r)
    return out


@dataclass(frozen=True, slots=True)
class Layout:
    """The cell numbering of one set of cards: the keys with cuts, each with its dimensions and
    its first cell (cells of such keys are numbered below zero; any other key's cell is itself)."""

    dims: dict[int, tuple[_Dim, ...]]
    bases: dict[int, int]

    @classmethod
    def of(cls, rows: list[_Row]) -> Layout:
        by_key = _by_key(rows)
        dims: dict[int, tuple[_Dim, ...]] = {}
        bases: dict[int, int] = {}
        base = 0
        for key in sorted(by_key):
            found = _key_dims(by_key[key])
            if found:
                dims[key], bases[key] = tuple(found), base
                base += _strides(found)[-1]
        return cls(dims, bases)

    @property
    def size(self) -> int:
        """Cells below zero."""
        return sum(_strides(d)[-1] for d in self.dims.values())

    def branches(self) -> dict[str, str]:
        """Per key with cuts: its cell's SQL (``{t}``: the column prefix); what ``meta`` stores."""
        out: dict[str, str] = {}
        for key, dims in self.dims.items():
            strides = _strides(dims)
            local = " + ".join(f"{d.slot_sql()} * {st}" for d, st in zip(dims, strides, strict=False))
            out[str(key)] = f"{-(self.bases[key] + 1)} - ({local})"
        return out

    def cells(self, rows: list[_Row], max_key: int) -> pa.Table:
        """Every cell's prices: keys 0..``max_key`` as themselves, then the cells of the keys with cuts."""
        by_key = _by_key(rows)
        ids: list[int] = []
        prices: list[tuple[int, ...] | None] = []
        for key in range(max_key + 1):  # none: a key not rated yet (dead)
            ids.append(key)
            prices.append(None if key in self.dims else _value(by_key.get(key, []), (), ()))
        for key, dims in self.dims.items():
            strides = _strides(dims)
            for slots in product(*(range(d.slots) for d in dims)):
                ids.append(-(self.bases[key] + 1) - sum(s * st for s, st in zip(slots, strides, strict=False)))
                prices.append(_value(by_key[key], dims, slots))
        cols: dict[str, pa.Array] = {"c": pa.array(ids, pa.int32())}
        for j, b in enumerate(RATED_BUCKETS):
            cols[f"pp_{b}"] = pa.array([p[j] if p else 0 for p in prices], pa.int64())
        cols["dead"] = pa.array([None if p else 1 for p in prices], pa.int8())
        return pa.table(cols)


def _layout(con: duckdb.DuckDBPyConnection, cards: str) -> tuple[list[_Row], Layout] | None:
    """The card rows of ``cards`` and their layout; None when the integer path cannot price them
    (finer than a pico-dollar, or too many cells)."""
    rows = _card_rows(con, cards)
    if rows is None:
        return None
    layout = Layout.of(rows)
    return (rows, layout) if layout.size <= _MAX_CELLS else None


def current_layout(con: duckdb.DuckDBPyConnection, cards: str = "rate_cards_current") -> Layout | None:
    """The layout of ``cards`` (None: see :func:`_layout`)."""
    found = _layout(con, cards)
    return found[1] if found else None


def store_cells(con: duckdb.DuckDBPyConnection) -> int:
    """After the current cards changed (in the writer's transaction): keep the stored cells
    under their layout — rewrite the cells of every usage row whose key's layout changed (every
    row the first time), and record the layout in ``meta``. Returns the keys rewritten (-1: all)."""
    layout = current_layout(con)
    new = None if layout is None else layout.branches()
    row = first(con.execute("SELECT value FROM meta WHERE key = ?", [META_KEY]))
    old = json.loads(row[0]) if row and row[0] else None
    if row and old == new:
        return 0
    if new is not None:
        if old is None:
            where, changed = "TRUE", -1
        else:
            keys = sorted({int(k) for k in {*old, *new} if old.get(k) != new.get(k)})
            where, changed = f"rate_key IN ({', '.join(map(str, keys))})", len(keys)
        for table in ("events", "corrections"):
            con.execute(f"UPDATE {table} SET rate_cell = {cell_sql(new)} "
                        f"WHERE type = 'llm.usage' AND rate_key IS NOT NULL AND {where}")
    else:
        changed = 0
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [META_KEY, json.dumps(new, sort_keys=True) if new is not None else ""])
    return changed


def cells_stored(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``meta`` records a layout of stored cells (not yet in a file migrated from layout 3)."""
    return first(con.execute("SELECT 1 FROM meta WHERE key = ?", [META_KEY])) is not None


def fill_cells(con: duckdb.DuckDBPyConnection) -> None:
    """Give rows written without a cell (not by the ledger: a direct insert) theirs under the
    stored layout, as the ledger would (in the writer's transaction); a usage row without a rate
    key keeps none."""
    row = first(con.execute("SELECT value FROM meta WHERE key = ?", [META_KEY]))
    expr = stored_cell_sql(row[0] if row else None)
    for table in ("events", "corrections"):
        con.execute(f"UPDATE {table} SET rate_cell = {expr} "
                    "WHERE rate_cell IS NULL AND (rate_key IS NOT NULL OR type IS DISTINCT FROM 'llm.usage')")


def _keys(groups: Sequence[str]) -> str:
    return "".join(f"{g} AS g{i}, " for i, g in enumerate(groups))


def _sums_sql(groups: Sequence[str], where: str, cell: str, priced: Sequence[str], checked: bool,
              extras: Sequence[str] = ()) -> str:
    """Per group: events, Σ pico-dollar dot products over the ``priced`` buckets (the others cost
    nothing in every cell), dead events (and priced products under ``try``), then the ``extras``
    (aggregates over the event columns) as ``x0``, ``x1``, …"""
    dot = " + ".join("k.pp_request" if b == "request" else f'e."{b}" * k.pp_{b}' for b in priced) or "0"
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
    stats = [first(con.execute(f"SELECT {parts} FROM {t}"))  # NULL on other events
             for t in ("events", "corrections")]
    bound = max(cells["pp_request"].to_pylist(), default=0)
    for i, b in enumerate(QTY_BUCKETS):
        lows = [r[2 * i] for r in stats if r and r[2 * i] is not None]
        highs = [r[2 * i + 1] for r in stats if r and r[2 * i + 1] is not None]
        if lows and min(lows) < 0:
            return False
        bound += max(highs, default=0) * max(cells[f"pp_{b}"].to_pylist(), default=0)
    return bound <= _BIGINT


def _sums(con: duckdb.DuckDBPyConnection, groups: Sequence[str], where: str,
          params: Sequence[Any] | Mapping[str, Any], cards: str, extras: Sequence[str],
          stored_cells: bool) -> str | None:
    """Fill the temp table of sums per group; the SELECT of the rows from it, or None (no table:
    this path does not apply)."""
    found = first(con.execute(  # rows without a stored cell, the key range, the stored cells' layout
        "SELECT c1 + c2, least(lo1, lo2), greatest(hi1, hi2, n), layout FROM"
        " (SELECT count(*) AS c1 FROM events WHERE rate_cell IS NULL),"
        " (SELECT count(*) AS c2 FROM corrections WHERE rate_cell IS NULL),"
        " (SELECT min(rate_key) AS lo1, max(rate_key) AS hi1 FROM events),"
        " (SELECT min(rate_key) AS lo2, max(rate_key) AS hi2 FROM corrections),"
        " (SELECT max(key_id) AS n FROM usage_keys),"
        f" (SELECT max(value) AS layout FROM meta WHERE key = '{META_KEY}')"))
    laid = _layout(con, cards)
    if found is None or (found[1] is not None and found[1] < 0) or laid is None:
        return None
    cell_less = int(found[0] or 0)  # the ledger stores every event's cell (0: not a usage event)
    if cell_less and count_of(con, "SELECT (SELECT count(*) FROM events WHERE rate_key IS NULL AND type = 'llm.usage')"
                                 " + (SELECT count(*) FROM corrections WHERE rate_key IS NULL AND type = 'llm.usage')"):
        return None  # usage rows without a rate key (not written by the ledger): the string join prices them
    rows, layout = laid
    max_key = int(found[2] or 0)  # every id a row can carry has a cell (no row is dropped)
    if layout.size + max_key + 1 > _MAX_CELLS:
        return None
    cells = layout.cells(rows, max_key)
    branches = layout.branches()
    stored = stored_cells and bool(found[3]) and json.loads(found[3]) == branches
    computed = cell_sql(branches, "e.")
    if not stored:
        cell = computed
    else:  # coalesce computes the cell only where none is stored, but costs a pass over every row
        cell = f"coalesce(e.rate_cell, {computed})" if cell_less else "e.rate_cell"
    priced = [b for b in RATED_BUCKETS if any(cells[f"pp_{b}"].to_pylist())]
    checked = not _bounded(con, cells)
    con.register("_wm_kc_arrow", cells)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_CELLS} AS SELECT * FROM _wm_kc_arrow")
    finally:
        con.unregister("_wm_kc_arrow")
    args = params if isinstance(params, Mapping) else list(params)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_SUMS} AS "
                f"{_sums_sql(groups, where, cell, priced, checked, extras)}", args)
    short = first(con.execute(f"SELECT count(*) FROM {_SUMS} WHERE products < events")) if checked else (0,)
    con.execute(f"DROP TABLE {_CELLS}")
    if short and short[0]:
        con.execute(f"DROP TABLE {_SUMS}")
        return None
    names = "".join(f"g{i}, " for i in range(len(groups)))
    return f"""SELECT {names}events, CASE WHEN events > dead THEN pico::DECIMAL(38, 0) * {PICO} END AS cost,
       dead AS unpriced_events{"".join(f", x{i}" for i in range(len(extras)))}
FROM {_SUMS}"""


def keyed_table(con: duckdb.DuckDBPyConnection, table: str, groups: Sequence[str], where: str,
                params: Sequence[Any] | Mapping[str, Any], cards: str, extras: Sequence[str] = (),
                stored_cells: bool = True) -> bool:
    """Temp table ``table``: ``(g0, …, events, cost, unpriced_events, x0, …)`` per group; False (and
    no table) when this path does not apply — use another.

    ``where`` filters the usage events' ``live_events`` columns (``params``: positional or
    named); ``extras`` are more aggregates over them. Run it inside a transaction (one
    snapshot of the ledger). ``stored_cells=False`` computes every cell even where the stored
    ones apply (the same result)."""
    sql = _sums(con, groups, where, params, cards, extras, stored_cells)
    if sql is None:
        return False
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
    con.execute(f"DROP TABLE {_SUMS}")
    return True


def keyed_rows(con: duckdb.DuckDBPyConnection, groups: Sequence[str], where: str, params: Sequence[Any],
               cards: str, extras: Sequence[str] = (), stored_cells: bool = True) -> list[tuple[Any, ...]] | None:
    """Rows ``(g0, …, events, cost, unpriced_events, x0, …)``, ordered, or None (use another path).

    ``extras`` are more aggregates over the usage events' ``live_events`` columns. Run it inside
    a transaction (one snapshot of the ledger)."""
    sql = _sums(con, groups, where, params, cards, extras, stored_cells)
    if sql is None:
        return None
    order = ", ".join(f"g{i}" for i in range(len(groups)))  # one row per group
    rows = con.execute(f"{sql} ORDER BY {order or 'ALL'}").fetchall()
    con.execute(f"DROP TABLE {_SUMS}")
    return rows
