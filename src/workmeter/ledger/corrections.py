"""Corrections as new records: void and amend, never an UPDATE of history.

A correction row copies the event's columns (for a void: the current live row;
for an amend: the replacement, validated and normalized by the same staging
SQL as ingest) with ``action``, ``reason``, ``corrected_at`` and a ``revision``
counter. ``live_events`` applies the newest correction per (source, id).
Corrections are audited: :func:`history` lists every revision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pyarrow as pa

from workmeter.core.errors import Conflict, InvalidInput, NotFound
from workmeter.ledger.stage import ENVELOPE_FROM_TEXT, staged_sql
from workmeter.store.duckdb import Database, first
from workmeter.store.schema import EVENT_COLUMNS, META_CELLS, fill_rate_keys_sql, stored_cell_sql

_COLS = ", ".join(f'"{n}"' for n, _ in EVENT_COLUMNS)
#: By name: a migrated file's corrections table may order its columns differently.
_INTO = f'{_COLS}, "action", "reason", "corrected_at", "revision"'


def _current(con: Any, source: str, id_: str) -> tuple[Any, ...]:
    row = first(con.execute(
        f"SELECT {_COLS} FROM live_events WHERE key_hash = hash(?, ?) AND source = ? AND id = ?",
        [source, id_, source, id_]))
    if row is None:
        voided = first(con.execute(
            "SELECT revision, reason FROM corrections WHERE source = ? AND id = ? AND action = 'void' "
            "ORDER BY revision DESC LIMIT 1", [source, id_]))
        if voided is not None:
            raise Conflict(f"event source={source!r} id={id_!r} is already voided "
                           f"(revision {voided[0]}: {voided[1]})")
        raise NotFound(f"no live event with source={source!r} id={id_!r}")
    return tuple(row)


def _revision(con: Any, source: str, id_: str) -> int:
    row = first(con.execute("SELECT coalesce(max(revision), 0) FROM corrections WHERE source = ? AND id = ?",
                      [source, id_]))
    return int(row[0]) + 1 if row else 1


def void(db: Database, source: str, id_: str, reason: str) -> int:
    """Void an event: reports stop counting it. Returns the correction revision."""
    if not reason:
        raise InvalidInput("a void needs a reason")
    with db.write() as con:
        _current(con, source, id_)
        rev = _revision(con, source, id_)
        con.execute(
            f"INSERT INTO corrections ({_INTO}) SELECT {_COLS}, 'void', ?, now(), ? FROM live_events "
            "WHERE key_hash = hash(?, ?) AND source = ? AND id = ?",
            [reason, rev, source, id_, source, id_])
    return rev


def amend(db: Database, event: Mapping[str, Any], reason: str) -> int:
    """Replace an event's payload with ``event`` (same source and id). Returns the revision."""
    if not reason:
        raise InvalidInput("an amendment needs a reason")
    source, id_ = event.get("source"), event.get("id")
    if not isinstance(source, str) or not isinstance(id_, str):
        raise InvalidInput("the replacement event needs the original source and id")
    table = pa.table({"pos": pa.array([0], pa.int64()), "raw": pa.array([orjson.dumps(event).decode()])})
    with db.write() as con:
        current = _current(con, source, id_)
        con.register("_amend", table)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _astage AS "
                        f"{staged_sql(ENVELOPE_FROM_TEXT.replace('{input}', '_amend'))}")
        finally:
            con.unregister("_amend")
        reason_row = first(con.execute("SELECT reason FROM _astage"))
        if reason_row and reason_row[0]:
            raise InvalidInput(f"the replacement is invalid: {reason_row[0]}", where=f"{source}/{id_}")
        rev = _revision(con, source, id_)
        seq, ingested_at = current[0], current[7]
        cols = [n for n, _ in EVENT_COLUMNS]
        layout = first(con.execute("SELECT value FROM meta WHERE key = ?", [META_CELLS]))
        exprs = {"seq": "?", "ingested_at": "?", "rate_cell": stored_cell_sql(layout[0] if layout else None)}
        select = ", ".join(exprs.get(c, f'"{c}"') for c in cols)
        for stmt in fill_rate_keys_sql("_astage"):  # a model key no event had before gets its number
            con.execute(stmt)
        con.execute(f"INSERT INTO corrections ({_INTO}) SELECT {select}, 'amend', ?, now(), ? FROM _astage",
                    [seq, ingested_at, reason, rev])
        con.execute("DROP TABLE _astage")
    return rev


def history(db: Database, source: str, id_: str) -> list[dict[str, Any]]:
    """Every correction of one event, oldest first."""
    cur = db.read()
    rows = cur.execute(
        "SELECT revision, action, reason, corrected_at, CAST(data AS VARCHAR) FROM corrections "
        "WHERE source = ? AND id = ? ORDER BY revision", [source, id_]).fetchall()
    return [{"revision": r[0], "action": r[1], "reason": r[2], "corrected_at": r[3].isoformat(),
             "data": orjson.loads(r[4]) if r[4] else None} for r in rows]
