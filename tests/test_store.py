"""The database file: its layout version is recorded and a newer file is refused, never misread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from conftest import usage_event
from workmeter.app import Workmeter
from workmeter.core.errors import StorageError
from workmeter.rating.aggregate import cost_by
from workmeter.store.schema import SCHEMA_VERSION


def test_a_new_file_records_its_layout_version_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "v.duckdb"
    wm = Workmeter.open(path)
    wm.ledger.ingest([usage_event("a")])
    wm.close()
    con = duckdb.connect(str(path))
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [(str(SCHEMA_VERSION),)]
    con.close()
    wm = Workmeter.open(path)
    assert wm.ledger.counts()["events"] == 1
    wm.close()


def test_a_file_from_a_newer_workmeter_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "newer.duckdb"
    Workmeter.open(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(StorageError, match="newer workmeter"):
        Workmeter.open(path)
    con = duckdb.connect(str(path))  # the refused open left the file closed and untouched
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [
        (str(SCHEMA_VERSION + 1),)]
    con.close()


def test_a_report_snapshot_inside_an_open_transaction_is_refused_clearly(tmp_path: Path) -> None:
    from workmeter.rating.aggregate import snapshot

    wm = Workmeter.open(tmp_path / "s.duckdb")
    cur = wm.db.read()
    cur.execute("BEGIN TRANSACTION")
    with pytest.raises(StorageError, match="without an open transaction"), snapshot(cur):
        pass
    cur.execute("ROLLBACK")
    with snapshot(cur):  # a cursor without a transaction gets its own
        assert cur.execute("SELECT count(*) FROM live_events").fetchall() == [(0,)]
    wm.close()


def test_a_layout_1_file_gains_the_prompt_hash_column_filled_from_its_events(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    wm = Workmeter.open(path)
    wm.ledger.ingest([usage_event("p1", prompt_hash="abc"), usage_event("p2"), usage_event("p3", prompt_hash="abc")])
    wm.ledger.void("test", "p3", "test traffic")
    wm = _reopened(wm, _to_layout_1)  # a file from before the column and before versions
    rows = wm.db.read().execute("SELECT id, prompt_hash FROM live_events ORDER BY id").fetchall()
    assert rows == [("p1", "abc"), ("p2", None)]
    assert wm.db.read().execute("SELECT prompt_hash FROM corrections").fetchall() == [("abc",)]
    wm.ledger.void("test", "p1", "after the migration, corrections still line up")
    assert wm.db.read().execute("SELECT id FROM live_events").fetchall() == [("p2",)]
    assert wm.db.read().execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [
        (str(SCHEMA_VERSION),)]
    wm.close()


def _reopened(wm: Workmeter, change: Callable[[duckdb.DuckDBPyConnection], None]) -> Workmeter:
    """Close ``wm``, ``change`` its file with plain DuckDB (make it an older layout), open it again."""
    path = wm.db.path
    wm.close()
    con = duckdb.connect(path)
    change(con)
    con.close()
    return Workmeter.open(path)


def _to_layout_1(con: duckdb.DuckDBPyConnection) -> None:
    """Make a file look like layout 1: no prompt_hash column, no recorded version."""
    _to_layout_2(con)
    for table in ("events", "corrections"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN prompt_hash")
    con.execute("DELETE FROM meta WHERE key = 'schema_version'")


def _to_layout_2(con: duckdb.DuckDBPyConnection) -> None:
    """Make a file look like layout 2: no rate keys."""
    _to_layout_3(con)
    for table in ("events", "corrections"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN rate_key")
    con.execute("DROP TABLE usage_keys")
    con.execute("UPDATE corrections SET seq = NULL")  # layout 2 matched corrections by (source, id)
    for table in ("rate_cards", "rate_cards_current"):  # and its rate cards had a quantity limit
        con.execute(f"ALTER TABLE {table} ADD COLUMN qty_limit BIGINT")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def _to_layout_3(con: duckdb.DuckDBPyConnection) -> None:
    """Make a file look like layout 3: no stored price cells."""
    con.execute("DROP VIEW live_events CASCADE")
    for table in ("events", "corrections"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN rate_cell")
    con.execute("DELETE FROM meta WHERE key = 'rate_cells'")
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")


def test_a_layout_3_file_gains_stored_price_cells_and_prices_as_before(tmp_path: Path) -> None:
    path = tmp_path / "v3.duckdb"
    wm = Workmeter.open(path)
    wm.ledger.ingest([usage_event("o1", provider="openai", model="o3", time="2025-06-09T12:00:00Z"),
                      usage_event("o2", provider="openai", model="o3", time="2025-06-10T12:00:00Z"),
                      usage_event("d1", provider="deepseek", model="deepseek-chat", time="2025-09-01T17:00:00Z",
                                  usage_format="anthropic"),
                      usage_event("c1")])
    wm.ledger.amend(usage_event("c1", provider="deepseek", model="deepseek-chat", time="2025-09-01T10:00:00Z",
                                usage_format="anthropic"),
                    "wrong model")
    wm.rater.refresh()
    before = cost_by(wm.db, ["id"])
    cells = wm.db.read().execute("SELECT id, rate_cell FROM live_events ORDER BY id").fetchall()
    wm = _reopened(wm, _to_layout_3)
    cur = wm.db.read()
    assert cur.execute("SELECT count(rate_cell) FROM live_events").fetchall() == [(0,)]
    assert cost_by(wm.db, ["id"]) == before  # cells not stored yet: the query computes them
    wm.rater.refresh()  # the rater stores them the first time it runs (every report runs it first)
    assert cur.execute("SELECT id, rate_cell FROM live_events ORDER BY id").fetchall() == cells
    assert len({c for _, c in cells}) == 4 and all(c is not None for _, c in cells)
    assert cost_by(wm.db, ["id"]) == cost_by(wm.db, ["id"], stored_cells=False) == before
    assert cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [(str(SCHEMA_VERSION),)]
    wm.close()


def test_a_layout_2_file_gains_rate_keys_and_prices_as_before(tmp_path: Path) -> None:
    path = tmp_path / "v2.duckdb"
    wm = Workmeter.open(path)
    events = [usage_event("k1"), usage_event("k2", model="gpt-4o", provider="openai"),
              usage_event("k3", model="claude-haiku-4-5", service_tier="batch"), usage_event("k4")]
    wm.ledger.ingest(events)
    wm.ledger.amend({**usage_event("k4", model="gpt-4o", provider="openai")}, "wrong model")
    assert wm.ledger.counts()["events"] == 4
    before = cost_by(wm.db, ["provider", "model"])
    keys = wm.db.read().execute("SELECT model, rate_key FROM live_events ORDER BY id").fetchall()
    wm = _reopened(wm, _to_layout_2)
    cur = wm.db.read()
    assert cur.execute("SELECT count(*) FROM live_events WHERE rate_key IS NULL").fetchall() == [(0,)]
    # the same key gets the same id whichever table it is in; each key has exactly one id
    assert cur.execute("SELECT count(DISTINCT (provider, model, service_tier)), count(*) FROM usage_keys"
                       ).fetchall() == [(3, 3)]
    assert sorted(i for (i,) in cur.execute("SELECT id FROM live_events").fetchall()) == ["k1", "k2", "k3", "k4"]
    ids = dict(cur.execute("SELECT id, rate_key FROM live_events").fetchall())
    assert ids["k2"] == ids["k4"] and len(set(ids.values())) == 3  # the amended k4 is a gpt-4o call now
    assert [m for m, _ in keys] == [m for m, _ in cur.execute("SELECT model, rate_key FROM live_events ORDER BY id"
                                                               ).fetchall()]
    assert cost_by(wm.db, ["provider", "model"]) == before
    wm.ledger.ingest([usage_event("k5", model="gpt-4o", provider="openai")])  # new events reuse the ids
    assert cur.execute("SELECT count(*) FROM usage_keys").fetchall() == [(3,)]
    wm.rater.rerate(note="rate cards are written in the new layout")
    assert len(cost_by(wm.db, ["provider", "model"])) == len(before)
    wm.close()
