"""Ingest benchmark: bulk Parquet import, re-import, and the Python API in batches.

Run: ``.venv/bin/python bench/bench_ingest.py --events 10000000 --api-events 1000000``

Each workmeter path is printed beside baselines measured in the same run on the
same data, with the peak RSS of the process during that step:

- plain DuckDB ``read_parquet`` into a table (no validation, no dedup);
- the naive dedup design: ``INSERT … SELECT * FROM read_parquet(…) ANTI JOIN`` the
  table on (source, id), first into an empty table, then again (all duplicates);
- raw Arrow batches appended to a table without validation (for the API batches).

The API sample is read from the Parquet file batch by batch and turned into
dicts outside the timed calls, so the harness holds one batch at a time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from common import RssSampler, gib
from rich.console import Console
from rich.table import Table

from workmeter.app import Workmeter
from workmeter.demo.generate import iter_chunks
from workmeter.demo.output import write_chunks

COLUMNS = "specversion, id, source, type, subject, time, data"


def fresh(workdir: Path, name: str, memory_limit: str) -> Workmeter:
    path = workdir / f"{name}.duckdb"
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    return Workmeter.open(path, memory_limit=memory_limit)


def fresh_duckdb(workdir: Path, name: str, memory_limit: str) -> duckdb.DuckDBPyConnection:
    path = workdir / f"{name}.duckdb"
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    return duckdb.connect(str(path), config={"memory_limit": memory_limit})


class Steps:
    """Timed steps, each with its own peak RSS, gathered into table rows."""

    def __init__(self) -> None:
        self.rows: list[list[object]] = []
        self.seconds: dict[str, float] = {}

    def run(self, name: str, events: int, fn: Callable[[], str], baseline: str | None = None,
            clock: list[float] | None = None) -> float:
        """Time ``fn``; with ``clock``, only the seconds ``fn`` adds to ``clock[0]`` count."""
        with RssSampler() as rss:
            start = time.perf_counter()
            note = fn()
            seconds = clock[0] if clock else time.perf_counter() - start
        self.seconds[name] = seconds
        ratio = f"{self.seconds[baseline] / seconds:.2f}×" if baseline else ""
        self.rows.append([name, events, seconds, events / seconds, ratio, gib(rss.peak), note])
        return seconds


def api_batches(parquet: Path, n: int, size: int, as_dicts: bool = True) -> Iterator[Any]:
    """The first ``n`` events of the file, ``size`` per batch: dicts (data parsed) or Arrow."""
    left = n
    for batch in pq.ParquetFile(parquet).iter_batches(batch_size=size):
        table = pa.Table.from_batches([batch.slice(0, left)])
        if as_dicts:
            yield [dict(r, data=orjson.loads(r["data"]) if r["data"] else None) for r in table.to_pylist()]
        else:
            yield table
        left -= table.num_rows
        if left <= 0:
            return


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--api-events", type=int, default=500_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wm-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    parquet = workdir / "events.parquet"
    n, limit = args.events, args.memory_limit
    steps = Steps()

    def generate() -> str:
        write_chunks(iter_chunks(n, seed=1, start=datetime(2026, 10, 1, tzinfo=UTC)), parquet)
        return f"{parquet.stat().st_size / 2**20:,.0f} MiB"

    steps.run("generate → Parquet", n, generate)

    con = fresh_duckdb(workdir, "baseline", limit)
    source = f"read_parquet('{parquet}')"

    def copy() -> str:
        con.execute(f"CREATE TABLE raw AS SELECT {COLUMNS} FROM {source}")
        return "no validation, no dedup"

    def anti_join(table: str) -> Callable[[], str]:
        def run() -> str:
            con.execute(f"INSERT INTO {table} SELECT s.* FROM (SELECT {COLUMNS} FROM {source}) s "
                        f"ANTI JOIN {table} t ON t.source = s.source AND t.id = s.id")
            return f"{con.execute(f'SELECT count(*) FROM {table}').fetchone()[0]:,} rows"  # type: ignore[index]
        return run

    steps.run("baseline: DuckDB read_parquet → table", n, copy)
    con.execute(f"CREATE TABLE dedup AS SELECT {COLUMNS} FROM {source} LIMIT 0")
    steps.run("baseline: naive anti-join insert (first)", n, anti_join("dedup"))
    steps.run("baseline: naive anti-join insert (again)", n, anti_join("dedup"))
    con.close()

    wm = fresh(workdir, "ledger", limit)
    steps.run("workmeter ingest Parquet (validate, normalize, dedup)", n,
              lambda: f"accepted {wm.ledger.ingest_file(str(parquet)).accepted:,}",
              baseline="baseline: naive anti-join insert (first)")
    steps.run("workmeter re-ingest same file", n,
              lambda: f"accepted {wm.ledger.ingest_file(str(parquet)).accepted:,}",
              baseline="baseline: naive anti-join insert (again)")
    wm.close()

    api_n = min(args.api_events, n)
    con = fresh_duckdb(workdir, "baseline2", limit)
    con.execute(f"CREATE TABLE raw AS SELECT {COLUMNS} FROM {source} LIMIT 0")

    raw_clock = [0.0]

    def append_raw() -> str:
        for batch in api_batches(parquet, api_n, args.batch, as_dicts=False):
            start = time.perf_counter()
            con.register("b", batch)
            con.execute("INSERT INTO raw SELECT * FROM b")
            con.unregister("b")
            raw_clock[0] += time.perf_counter() - start
        return "no validation, no dedup"

    raw_name = f"baseline: append raw Arrow batches of {args.batch:,}"
    steps.run(raw_name, api_n, append_raw, clock=raw_clock)
    con.close()

    wm = fresh(workdir, "api", limit)
    api_clock = [0.0]

    def api() -> str:
        accepted = 0
        for batch in api_batches(parquet, api_n, args.batch):
            start = time.perf_counter()
            accepted += wm.ledger.ingest(batch).accepted
            api_clock[0] += time.perf_counter() - start
        return f"accepted {accepted:,}"

    steps.run(f"workmeter Ledger.ingest(dicts), batches of {args.batch:,}", api_n, api, baseline=raw_name,
              clock=api_clock)
    wm.close()

    table = Table(title=f"ingest benchmark (memory_limit {limit}; × = baseline seconds / workmeter seconds)")
    for i, column in enumerate(["step", "events", "seconds", "events/s", "vs baseline", "peak RSS", "note"]):
        table.add_column(column, justify="left" if i in (0, 6) else "right")
    for name, events, seconds, rate, ratio, rss, note in steps.rows:
        table.add_row(str(name), f"{events:,}", f"{seconds:.2f}", f"{rate:,.0f}", str(ratio), str(rss), str(note))
    Console(width=170).print(table)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
