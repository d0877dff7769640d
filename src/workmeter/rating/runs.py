"""Rating runs: which catalog version prices which time range.

A run pins a catalog version to ``[range_from, range_to)``. Runs are never
changed or deleted; for any instant the *latest* run covering it wins. The
first run (made at the first sync) covers all time; ``workmeter rerate``
records a new one. The effective layout of a run is its segments: the
overlay of every run up to and including it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workmeter.catalog.model import MAX_TIME, MIN_TIME
from workmeter.store.duckdb import Database


@dataclass(frozen=True, slots=True)
class RatingRun:
    run_id: int
    catalog_version: str
    range_from: datetime
    range_to: datetime
    created_at: datetime
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "catalog_version": self.catalog_version,
                "from": None if self.range_from == MIN_TIME else self.range_from,
                "to": None if self.range_to == MAX_TIME else self.range_to,
                "created_at": self.created_at, "note": self.note}


def read_runs(con: Any) -> list[RatingRun]:
    """Every run, oldest first, through a connection or cursor (e.g. inside the writer's transaction)."""
    rows = con.execute("SELECT run_id, catalog_version, range_from, range_to, created_at, note "
                       "FROM rating_runs ORDER BY run_id").fetchall()
    return [RatingRun(r, v, a.astimezone(UTC), b.astimezone(UTC), c, n) for r, v, a, b, c, n in rows]


def list_runs(db: Database) -> list[RatingRun]:
    return read_runs(db.read())


def segments(runs: list[RatingRun]) -> list[tuple[datetime, datetime, str]]:
    """Overlay runs in order (later wins) → ordered, non-overlapping (start, end, version)."""
    segs: list[tuple[datetime, datetime, str]] = []
    for run in runs:
        a, b = run.range_from, run.range_to
        kept: list[tuple[datetime, datetime, str]] = []
        for s, e, v in segs:
            if e <= a or s >= b:
                kept.append((s, e, v))
                continue
            if s < a:
                kept.append((s, a, v))
            if e > b:
                kept.append((b, e, v))
        kept.append((a, b, run.catalog_version))
        segs = sorted(kept)
    merged: list[tuple[datetime, datetime, str]] = []
    for s, e, v in segs:
        if merged and merged[-1][1] == s and merged[-1][2] == v:
            merged[-1] = (merged[-1][0], e, v)
        else:
            merged.append((s, e, v))
    return merged


def insert_run(con: Any, catalog_version: str, start: datetime | None, end: datetime | None,
               note: str | None) -> RatingRun:
    row = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM rating_runs").fetchone()
    run = RatingRun(int(row[0]), catalog_version, start or MIN_TIME, end or MAX_TIME, datetime.now(UTC), note)
    con.execute("INSERT INTO rating_runs VALUES (?, ?, ?, ?, ?, ?)",
                [run.run_id, run.catalog_version, run.range_from, run.range_to, run.created_at, run.note])
    return run
