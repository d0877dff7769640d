"""Ingest benchmark: bulk Parquet import, re-import, and the Python API in batches.

Run: ``.venv/bin/python bench/bench_ingest.py --events 10000000``

Prints events/s for each workmeter path beside a baseline measured in the same
run on the same data (plain DuckDB ``read_parquet`` into a table; raw Arrow
batches appended without validation), and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pyarrow.parquet as pq
from common import RssSampler, gib, print_table

from workmeter.app import Workmeter
from workmeter.demo.generate import iter_chunks
from workmeter.demo.output import write_chunks


def fresh(workdir: Path, name: str, memory_limit: str) -> Workmeter:
    path = workdir / f"{name}.duckdb"
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    return Workmeter.open(path, memory_limit=memory_limit)


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
    rows: list[list[object]] = []
    n = args.events

    with RssSampler() as rss:
        t0 = time.perf_counter()
        write_chunks(iter_chunks(n, seed=1, start=datetime(2026, 10, 1, tzinfo=UTC)), parquet)
        gen_s = time.perf_counter() - t0
        rows.append(["generate → Parquet", n, gen_s, n / gen_s, "", ""])

        base_db = workdir / "baseline.duckdb"
        base_db.unlink(missing_ok=True)
        con = duckdb.connect(str(base_db), config={"memory_limit": args.memory_limit})
        t0 = time.perf_counter()
        con.execute(f"CREATE TABLE raw AS SELECT * FROM read_parquet('{parquet}')")
        base_s = time.perf_counter() - t0
        con.close()
        rows.append(["baseline: DuckDB read_parquet → table", n, base_s, n / base_s, "1.00×", ""])

        wm = fresh(workdir, "ledger", args.memory_limit)
        t0 = time.perf_counter()
        first = wm.ledger.ingest_file(str(parquet))
        bulk_s = time.perf_counter() - t0
        rows.append(["workmeter ingest Parquet (validate, normalize, dedup)", n, bulk_s, n / bulk_s,
                     f"{bulk_s / base_s:.2f}×", f"accepted {first.accepted:,}"])
        t0 = time.perf_counter()
        again = wm.ledger.ingest_file(str(parquet))
        re_s = time.perf_counter() - t0
        rows.append(["workmeter re-ingest same file", n, re_s, n / re_s, f"{re_s / base_s:.2f}×",
                     f"accepted {again.accepted:,}"])
        wm.close()

        api_n = min(args.api_events, n)
        sample = pq.read_table(parquet).slice(0, api_n)
        events = [dict(r, data=orjson.loads(r["data"]) if r["data"] else None) for r in sample.to_pylist()]
        batches = [events[i:i + args.batch] for i in range(0, api_n, args.batch)]
        arrow_batches = [sample.slice(i, args.batch) for i in range(0, api_n, args.batch)]

        con = duckdb.connect(str(workdir / "baseline2.duckdb"))
        con.execute("CREATE OR REPLACE TABLE raw AS SELECT * FROM sample LIMIT 0")
        t0 = time.perf_counter()
        for b in arrow_batches:
            con.register("b", b)
            con.execute("INSERT INTO raw SELECT * FROM b")
            con.unregister("b")
        raw_s = time.perf_counter() - t0
        con.close()
        rows.append([f"baseline: append raw Arrow batches of {args.batch:,}", api_n, raw_s, api_n / raw_s,
                     "1.00×", ""])

        wm = fresh(workdir, "api", args.memory_limit)
        t0 = time.perf_counter()
        accepted = sum(wm.ledger.ingest(b).accepted for b in batches)
        api_s = time.perf_counter() - t0
        wm.close()
        rows.append([f"workmeter Ledger.ingest(dicts), batches of {args.batch:,}", api_n, api_s, api_n / api_s,
                     f"{api_s / raw_s:.2f}×", f"accepted {accepted:,}"])

    print_table(f"ingest benchmark — peak RSS {gib(rss.peak)} (memory_limit {args.memory_limit})",
                ["step", "events", "seconds", "events/s", "vs baseline", "note"], rows)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)



if __name__ == "__main__":
    main()
