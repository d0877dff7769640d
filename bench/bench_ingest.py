"""Ingest benchmark: bulk Parquet import, re-import, and the Python API in batches.

Run: ``.venv/bin/python bench/bench_ingest.py --events 10000000 --api-events 1000000``

Each workmeter path is printed beside a baseline measured in the same run on the
same data:

- plain DuckDB ``read_parquet`` into a table (no validation, no dedup);
- the naive dedup design: ``INSERT … SELECT * FROM read_parquet(…) ANTI JOIN`` the
  table on (source, id), first into an empty table, then again (all duplicates);
  the baseline of workmeter's import and re-import;
- raw Arrow batches appended to a table without validation (for the API batches).

Every phase runs in its own fresh process, so "peak RSS" is that phase's own
(the generator's memory is not counted against the ledger). The API sample is
read from the Parquet file batch by batch and turned into dicts outside the timed
calls.
"""

from __future__ import annotations

import argparse
import multiprocessing
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

COLUMNS = "specversion, id, source, type, subject, time, data"
Row = list[object]


def timed(name: str, events: int, fn: Callable[[], str], clock: list[float] | None = None) -> Row:
    """[name, events, seconds, note, peak RSS] of ``fn``; with ``clock``, only the seconds it adds there."""
    with RssSampler() as rss:
        start = time.perf_counter()
        note = fn()
        seconds = clock[0] if clock else time.perf_counter() - start
    return [name, events, seconds, note, gib(rss.peak)]


def fresh_path(workdir: Path, name: str) -> Path:
    path = workdir / f"{name}.duckdb"
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    return path


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


# -- phases (each in its own process) -----------------------------------------------------------

def phase_generate(parquet: Path, n: int) -> list[Row]:
    from workmeter.demo.generate import iter_chunks
    from workmeter.demo.output import write_chunks

    def run() -> str:
        write_chunks(iter_chunks(n, seed=1, start=datetime(2026, 10, 1, tzinfo=UTC)), parquet)
        return f"{parquet.stat().st_size / 2**20:,.0f} MiB"

    return [timed("generate → Parquet", n, run)]


def phase_baselines(parquet: Path, n: int, workdir: Path, limit: str) -> list[Row]:
    con = duckdb.connect(str(fresh_path(workdir, "baseline")), config={"memory_limit": limit})
    source = f"(SELECT {COLUMNS} FROM read_parquet('{parquet}'))"

    def copy() -> str:
        con.execute(f"CREATE TABLE raw AS SELECT * FROM {source}")
        return "no validation, no dedup"

    def anti_join() -> str:
        con.execute(f"INSERT INTO dedup SELECT s.* FROM {source} s "
                    "ANTI JOIN dedup t ON t.source = s.source AND t.id = s.id")
        return f"{con.execute('SELECT count(*) FROM dedup').fetchone()[0]:,} rows"  # type: ignore[index]

    rows = [timed("baseline: DuckDB read_parquet → table", n, copy)]
    con.execute(f"CREATE TABLE dedup AS SELECT * FROM {source} LIMIT 0")
    rows.append(timed("baseline: naive anti-join insert (first)", n, anti_join))
    rows.append(timed("baseline: naive anti-join insert (again)", n, anti_join))
    con.close()
    return rows


def phase_ledger(parquet: Path, n: int, workdir: Path, limit: str) -> list[Row]:
    from workmeter.app import Workmeter

    wm = Workmeter.open(fresh_path(workdir, "ledger"), memory_limit=limit)

    def ingest() -> str:
        return f"accepted {wm.ledger.ingest_file(str(parquet)).accepted:,}"

    rows = [timed("workmeter ingest Parquet (validate, normalize, dedup)", n, ingest),
            timed("workmeter re-ingest same file", n, ingest)]
    wm.close()
    return rows


def phase_api_baseline(parquet: Path, n: int, workdir: Path, limit: str, batch: int) -> list[Row]:
    con = duckdb.connect(str(fresh_path(workdir, "baseline2")), config={"memory_limit": limit})
    con.execute(f"CREATE TABLE raw AS SELECT {COLUMNS} FROM read_parquet('{parquet}') LIMIT 0")
    clock = [0.0]

    def append() -> str:
        for table in api_batches(parquet, n, batch, as_dicts=False):
            start = time.perf_counter()
            con.register("b", table)
            con.execute("INSERT INTO raw SELECT * FROM b")
            con.unregister("b")
            clock[0] += time.perf_counter() - start
        return "no validation, no dedup"

    rows = [timed(f"baseline: append raw Arrow batches of {batch:,}", n, append, clock)]
    con.close()
    return rows


def phase_api(parquet: Path, n: int, workdir: Path, limit: str, batch: int) -> list[Row]:
    from workmeter.app import Workmeter

    wm = Workmeter.open(fresh_path(workdir, "api"), memory_limit=limit)
    clock = [0.0]

    def api() -> str:
        accepted = 0
        for events in api_batches(parquet, n, batch):
            start = time.perf_counter()
            accepted += wm.ledger.ingest(events).accepted
            clock[0] += time.perf_counter() - start
        return f"accepted {accepted:,}"

    rows = [timed(f"workmeter Ledger.ingest(dicts), batches of {batch:,}", n, api, clock)]
    wm.close()
    return rows


def in_child(fn: Callable[..., list[Row]], *args: Any) -> list[Row]:
    """Run one phase in a fresh process and return its rows."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def print_rows(rows: list[Row], baselines: dict[str, str], limit: str) -> None:
    seconds = {str(r[0]): float(r[2]) for r in rows}  # type: ignore[arg-type]
    table = Table(title=f"ingest benchmark (memory_limit {limit}; × = baseline seconds / workmeter seconds; "
                        "peak RSS of each phase's own process)")
    for i, column in enumerate(["step", "events", "seconds", "events/s", "vs baseline", "peak RSS", "note"]):
        table.add_column(column, justify="left" if i in (0, 6) else "right")
    for name, events, secs, note, rss in rows:
        base = baselines.get(str(name))
        ratio = f"{seconds[base] / float(secs):.2f}×" if base else ""  # type: ignore[arg-type]
        table.add_row(str(name), f"{events:,}", f"{secs:.2f}", f"{int(events) / float(secs):,.0f}",  # type: ignore[call-overload, arg-type]
                      ratio, str(rss), str(note))
    Console(width=170).print(table)


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
    n, api_n, limit = args.events, min(args.api_events, args.events), args.memory_limit

    rows = in_child(phase_generate, parquet, n)
    rows += in_child(phase_baselines, parquet, n, workdir, limit)
    rows += in_child(phase_ledger, parquet, n, workdir, limit)
    rows += in_child(phase_api_baseline, parquet, api_n, workdir, limit, args.batch)
    rows += in_child(phase_api, parquet, api_n, workdir, limit, args.batch)
    raw = f"baseline: append raw Arrow batches of {args.batch:,}"
    print_rows(rows, {
        "workmeter ingest Parquet (validate, normalize, dedup)": "baseline: naive anti-join insert (first)",
        "workmeter re-ingest same file": "baseline: naive anti-join insert (again)",
        f"workmeter Ledger.ingest(dicts), batches of {args.batch:,}": raw,
    }, limit)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
