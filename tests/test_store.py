"""The database file: its layout version is recorded and a newer file is refused, never misread."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import usage_event
from workmeter.app import Workmeter
from workmeter.core.errors import StorageError
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
    wm.close()
    con = duckdb.connect(str(path))  # make it a file from before the column and before versions
    con.execute("DROP VIEW live_events")
    for table in ("events", "corrections"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN prompt_hash")
    con.execute("DELETE FROM meta WHERE key = 'schema_version'")
    con.close()
    wm = Workmeter.open(path)
    rows = wm.db.read().execute("SELECT id, prompt_hash FROM live_events ORDER BY id").fetchall()
    assert rows == [("p1", "abc"), ("p2", None)]
    assert wm.db.read().execute("SELECT prompt_hash FROM corrections").fetchall() == [("abc",)]
    wm.ledger.void("test", "p1", "after the migration, corrections still line up")
    assert wm.db.read().execute("SELECT id FROM live_events").fetchall() == [("p2",)]
    assert wm.db.read().execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [
        (str(SCHEMA_VERSION),)]
    wm.close()
