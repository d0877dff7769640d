"""The rater: keeps rate cards current and answers rating questions.

Building the rater makes sure a catalog exists (the first build syncs the
installed list prices and records run 1 over all time), creates the
``rated_events`` view, and rates any ledger key it has not seen yet. Rating
itself happens at query time in ``rated_events``; this service only writes
the small card tables, so history stays reproducible: the same run gives the
same cost for the same events, always.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from workmeter.catalog.model import RATED_BUCKETS, Catalog
from workmeter.catalog.service import CatalogService
from workmeter.core.errors import InvalidInput, NotFound
from workmeter.normalize.buckets import Buckets
from workmeter.rating import store
from workmeter.rating.card import CardRow, Segment, card
from workmeter.rating.keyed import cells_stored, store_cells
from workmeter.rating.reference import RatedEvent, rate_segments
from workmeter.rating.runs import RatingRun, insert_run, list_runs, read_runs, segments
from workmeter.store.duckdb import Database

Key = tuple[str, str, str]

#: Ledger keys (``usage_keys``, numbered by the ledger as usage events arrive) not carded yet.
_NEW_KEYS = """
SELECT DISTINCT coalesce(provider, ''), coalesce(model, ''), coalesce(service_tier, '') FROM usage_keys
EXCEPT SELECT provider, model, service_tier FROM rate_keys
"""


class Rater:
    def __init__(self, db: Database, catalog: CatalogService) -> None:
        self.db = db
        self.catalog = catalog
        db.ensure(*store.TABLES)
        with db.write() as con:
            for stmt in store.VIEWS:
                con.execute(stmt)
        if not list_runs(db):
            version = catalog.latest_version() or catalog.sync().version
            self._record_run(version, None, None, "initial rating run (first catalog sync)")
        self.refresh()
        if not cells_stored(db.read()):  # a file from before stored cells (every change of the cards keeps them)
            with db.write() as con:
                store_cells(con)
            db.checkpoint()

    # runs ---------------------------------------------------------------
    def runs(self) -> list[RatingRun]:
        return list_runs(self.db)

    def current_run(self) -> RatingRun:
        return self.runs()[-1]

    def segments(self, run_id: int | None = None) -> list[Segment]:
        """(start, end, catalog) of a run (default: the current one), in time order."""
        runs = self.runs()
        if run_id is not None:
            if run_id not in {r.run_id for r in runs}:
                raise NotFound(f"unknown rating run {run_id}", where="--run")
            runs = [r for r in runs if r.run_id <= run_id]
        return self._segments(runs)

    def rerate(self, start: datetime | None = None, end: datetime | None = None,
               catalog_version: str | None = None, note: str | None = None) -> RatingRun:
        """Record a new run pricing [start, end) with a catalog version (default: the latest)."""
        version = catalog_version or self.catalog.latest_version()
        if version is None:
            raise NotFound("no catalog version yet: run `workmeter prices sync`")
        self.catalog.load(version)  # validates it exists
        if start and end and start >= end:
            raise InvalidInput("--from must be before --to", where="--from")
        self.refresh()
        return self._record_run(version, start, end, note)

    def _record_run(self, version: str, start: datetime | None, end: datetime | None,
                    note: str | None) -> RatingRun:
        """One transaction: the run, and the cards of every known key under it (now current)."""
        with self.db.write() as con:
            runs = read_runs(con)
            run = insert_run(con, version, start, end, note)
            table = self._cards_table(run.run_id, _keys(con), self._segments([*runs, run]))
            _insert_cards(con, table, current=True, replace=True)
            rewritten = store_cells(con)
        if rewritten:
            self.db.checkpoint()
        return run

    # keys ---------------------------------------------------------------
    def refresh(self) -> int:
        """Rate ledger keys not seen before, under every run. Returns how many were new.

        Cheap when nothing is new (reads only the small ``usage_keys`` and ``rate_keys``
        tables, writes nothing); new keys are found and carded inside the writer's
        transaction, so concurrent refreshes never card a key twice.
        """
        if not self.db.read().execute(_NEW_KEYS).fetchone():
            return 0
        with self.db.write() as con:
            new: list[Key] = [tuple(r) for r in con.execute(_NEW_KEYS).fetchall()]  # type: ignore[misc]
            runs = read_runs(con)
            if new:
                con.executemany("INSERT INTO rate_keys VALUES (?, ?, ?, ?)",
                                [[*k, datetime.now(UTC)] for k in new])
                for i, run in enumerate(runs):
                    table = self._cards_table(run.run_id, new, self._segments(runs[:i + 1]))
                    _insert_cards(con, table, current=run is runs[-1], replace=False)
                store_cells(con)  # a new key's rows only: few, no checkpoint needed
        return len(new)

    def _segments(self, runs: list[RatingRun]) -> list[Segment]:
        return [(a, b, self.catalog.load(v)) for a, b, v in segments(runs)]

    @staticmethod
    def _cards_table(run_id: int, keys: list[Key], segs: list[Segment]) -> Any:
        rows: list[tuple[Key, CardRow]] = [(k, r) for k in keys for r in card(segs, *k)]
        return cards_table(run_id, rows)

    # rating -------------------------------------------------------------
    def rate(self, provider: str | None, model: str | None, buckets: Buckets, time: datetime,
             service_tier: str | None = None, run_id: int | None = None) -> RatedEvent:
        """Rate one event with the reference rater under a run (default: current)."""
        return rate_segments(self.segments(run_id), provider, model, buckets, time, service_tier)

    def catalog_at(self, time: datetime) -> Catalog:
        """The catalog version the current run uses at ``time``."""
        for a, b, cat in self.segments():
            if a <= time < b:
                return cat
        raise NotFound(f"no rating run covers {time.isoformat()}")

    def unpriced(self, start: datetime | None = None, end: datetime | None = None,
                 subjects: list[str] | None = None, run_id: int | None = None) -> list[dict[str, Any]]:
        """Unpriced usage events grouped by reason (and provider/model as recorded)."""
        self.refresh()
        source = "rated_events" if run_id is None else f"rated_events_for_run({int(run_id)})"
        where: list[str] = ["NOT priced"]
        params: list[Any] = []
        if start is not None:
            where.append("time >= ?")
            params.append(start)
        if end is not None:
            where.append("time < ?")
            params.append(end)
        if subjects:
            where.append("list_contains(?, subject)")
            params.append(subjects)
        sql = (f"SELECT unpriced_reason AS reason, provider, model, service_tier, count(*) AS events, "
               f"min(time) AS first_time, max(time) AS last_time FROM {source} WHERE {' AND '.join(where)} "
               "GROUP BY ALL ORDER BY events DESC, reason, provider, model")
        cur = self.db.read()
        cur.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _keys(con: Any) -> list[Key]:
    return [tuple(r) for r in con.execute(  # type: ignore[misc]
        "SELECT provider, model, service_tier FROM rate_keys ORDER BY ALL").fetchall()]


def _insert_cards(con: Any, table: Any, *, current: bool, replace: bool) -> None:
    con.register("_wm_cards", table)
    con.execute("INSERT INTO rate_cards SELECT * FROM _wm_cards")
    if replace:
        con.execute("DELETE FROM rate_cards_current")
    if current:
        con.execute("INSERT INTO rate_cards_current SELECT * FROM _wm_cards")
    con.unregister("_wm_cards")


def cards_table(run_id: int, rows: list[tuple[Key, CardRow]]) -> Any:
    """Card rows → the Arrow layout of ``rate_cards`` (prices per unit, DECIMAL(38, 24))."""
    import pyarrow as pa

    ts, unit = pa.timestamp("us", tz="UTC"), pa.decimal128(38, 24)
    def col(values: list[Any], typ: pa.DataType) -> pa.Array:
        return pa.array(values, typ)

    cols: dict[str, pa.Array] = {
        "run_id": col([run_id] * len(rows), pa.int32()),
        "provider": col([k[0] for k, _ in rows], pa.string()),
        "model": col([k[1] for k, _ in rows], pa.string()),
        "service_tier": col([k[2] for k, _ in rows], pa.string()),
        "valid_from": col([r.valid_from for _, r in rows], ts),
        "valid_to": col([r.valid_to for _, r in rows], ts),
        "tod_lo": col([r.tod_lo for _, r in rows], pa.int64()),
        "tod_hi": col([r.tod_hi for _, r in rows], pa.int64()),
        "in_lo": col([r.in_lo for _, r in rows], pa.int64()),
        "in_hi": col([r.in_hi for _, r in rows], pa.int64()),
    }
    units = [[_per_unit(r.prices[i] if r.prices else None) for _, r in rows] for i in range(len(RATED_BUCKETS))]
    for b, u in zip(RATED_BUCKETS, units, strict=True):
        cols[f"p_{b}"] = col(u, unit)
    picos = [[_pico(u[j]) for u in units] for j in range(len(rows))]
    for i, b in enumerate(RATED_BUCKETS):
        cols[f"pp_{b}"] = col([(p[i] or 0) if None not in p else 0 for p in picos], pa.int64())
    cols["pico"] = col([None not in p for p in picos], pa.bool_())
    cols["complete"] = col([all(u[j] is not None for u in units[:6]) for j in range(len(rows))], pa.bool_())
    for name in ("reason", "catalog_version", "catalog_provider", "catalog_model"):
        cols[name] = col([getattr(r, name) for _, r in rows], pa.string())
    return pa.table(cols)


def _pico(per_unit: Decimal | None) -> int | None:
    """Whole pico-dollars per unit, 0 for no price, None when not a whole number of pico-dollars."""
    if per_unit is None:
        return 0
    pico = per_unit.scaleb(12)
    return int(pico) if pico == pico.to_integral_value() else None


def _per_unit(price_per_million: Decimal | None) -> Decimal | None:
    return None if price_per_million is None else price_per_million.scaleb(-6).normalize()
