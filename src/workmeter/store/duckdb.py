"""The embedded store: one DuckDB file, one writer, readers on their own cursors.

All writes go through :meth:`Database.write`, which holds the single writer
lock for the duration of one transaction. Readers call :meth:`Database.read`
and get a fresh cursor (its own connection to the same database).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from workmeter.core.errors import StorageError
from workmeter.store.schema import (
    DDL,
    LIVE_EVENTS_VIEW,
    MIGRATIONS,
    SCHEMA_VERSION,
    layout_version_of_unversioned,
)

#: WAL size that triggers a checkpoint. DuckDB's default (16 MB) checkpoints every few ingest
#: batches, and each checkpoint compresses the table's open row group again: measured on 1.2M
#: events in 20k batches, 256 MB cuts the ledger's total CPU by a quarter (35.3 s → 26.0 s).
#: The price: up to this much WAL to replay after a crash, and that much unflushed data in memory.
CHECKPOINT_THRESHOLD = "256MB"
#: Extra DDL registered by other packages (billing, catalog, …): run at open, in order.
EXTRA_DDL: list[str] = []


def register_ddl(*statements: str) -> None:
    """Let a package add its tables; called at import time of that package's store module."""
    for stmt in statements:
        if stmt not in EXTRA_DDL:
            EXTRA_DDL.append(stmt)


class Database:
    def __init__(self, path: str | Path, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.path = str(path)
        config: dict[str, str | bool | int | float | list[str]] = {"checkpoint_threshold": CHECKPOINT_THRESHOLD}
        if threads:
            config["threads"] = str(threads)
        if memory_limit:
            config["memory_limit"] = memory_limit
        try:
            self.conn = duckdb.connect(self.path, config=config)
        except duckdb.Error as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        # Every timestamp is reported in UTC unless a report converts it explicitly.
        self.conn.execute("SET GLOBAL TimeZone = 'UTC'")
        try:
            self._schema()
        except BaseException:
            self.conn.close()
            raise

    def _schema(self) -> None:
        with self.write() as con:
            for stmt in DDL:
                con.execute(stmt)
            self._migrate(con)
            for stmt in EXTRA_DDL:
                con.execute(stmt)
            con.execute(LIVE_EVENTS_VIEW)

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        """Bring the file's layout to :data:`SCHEMA_VERSION` (a new file starts there)."""
        row = first(con.execute("SELECT value FROM meta WHERE key = 'schema_version'"))
        if row:
            version = int(row[0])
        else:  # a new file (its tables were just made at this layout) or one from before versions
            found = first(con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'events' "
                                      "AND column_name = 'prompt_hash' AND schema_name = 'main' "
                                      "AND database_name = current_database()"))
            version = layout_version_of_unversioned(bool(found and found[0]))
        if version > SCHEMA_VERSION:
            raise StorageError(f"database {self.path} was written by a newer workmeter (schema version "
                               f"{version}; this version reads up to {SCHEMA_VERSION}): upgrade workmeter")
        for step in range(version, SCHEMA_VERSION):
            for stmt in MIGRATIONS.get(step, ()):
                con.execute(stmt)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])

    def ensure(self, *statements: str) -> None:
        """Run DDL now (for packages imported after open)."""
        register_ddl(*statements)
        with self.write() as con:
            for stmt in statements:
                con.execute(stmt)

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer: one transaction, committed on success, rolled back on error."""
        with self._lock:
            con = self.conn
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                try:
                    con.execute("COMMIT")
                except duckdb.Error as exc:
                    raise StorageError(f"commit failed: {exc}") from exc

    def checkpoint(self) -> None:
        """Merge committed changes into the file now (updated rows read faster once merged); a
        checkpoint DuckDB cannot take now (another transaction is running) is left to the next."""
        with self._lock:
            try:
                self.conn.execute("CHECKPOINT")
            except duckdb.Error:
                pass

    def read(self) -> duckdb.DuckDBPyConnection:
        """A cursor for reading (its own connection; close it or let it go)."""
        return self.conn.cursor()

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def count_of(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The integer one-value query ``sql`` answers (0 for no row or NULL)."""
    row = first(con.execute(sql))
    return int(row[0] or 0) if row else 0


def first(result: duckdb.DuckDBPyConnection) -> tuple | None:  # type: ignore[type-arg]
    """The first row of an executed query, fully consuming it (DuckDB requires a result be
    finished before the connection runs anything else)."""
    rows = result.fetchall()
    return tuple(rows[0]) if rows else None
