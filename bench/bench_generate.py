"""Benchmark: ``workmeter generate`` to Parquet (target ≥ 1M events/s), beside baselines from the same run.

Rows:

- generate → Parquet: the CLI path (chunks of 500k built two at a time, background writer thread);
- generate only: building the Arrow tables, nothing written;
- write only: pyarrow writing the already generated table (zstd);
- baseline: pyarrow writing a table of random int64 with the same rows and columns.

Wall time, events/s, CPU seconds (this machine is shared: CPU time is the
steadier figure) and peak RSS. One untimed chunk warms the process up first.

    PYTHONPATH=src .venv/bin/python bench/bench_generate.py --events 5000000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("MIMALLOC_PURGE_DELAY", "10000")  # as `workmeter generate` does

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RssSampler, print_table

from workmeter.demo import generate_table, iter_chunks
from workmeter.demo.output import write_chunks

START = datetime(2026, 10, 1, tzinfo=UTC)


def measure(label: str, n: int, fn: Callable[[], object]) -> list[object]:
    with RssSampler() as rss:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return [label, n, wall, n / wall, cpu, rss.peak / 2**20]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=3_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    n = args.events
    # warm up: lookup tables, and the process's first touch of ~1.5 GB (slow on a fresh VM)
    generate_table(min(n, 1_000_000), args.seed + 1, START)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "events.parquet"
        rows.append(measure("generate → Parquet", n, lambda: write_chunks(iter_chunks(n, args.seed, START, workers=2), out)))
        mb = out.stat().st_size / 2**20
        rows.append(measure("generate only", n, lambda: [t.num_rows for t in iter_chunks(n, args.seed, START, workers=2)]))
        sample = min(n, 500_000)
        table = generate_table(sample, args.seed, START)
        rows.append(measure("write only (1 chunk)", sample,
                            lambda: pq.write_table(table, Path(tmp) / "w.parquet", compression="zstd")))
        rng = np.random.default_rng(0)
        ints = pa.table({c: rng.integers(0, 2**40, sample) for c in table.column_names})
        rows.append(measure("baseline: random int64 → Parquet", sample,
                            lambda: pq.write_table(ints, Path(tmp) / "b.parquet", compression="zstd")))
    print_table(f"generate {n:,} events (Parquet file {mb:,.0f} MiB, "
                f"{table.nbytes / sample:,.0f} bytes/event in memory)",
                ["step", "events", "seconds", "events/s", "cpu s", "peak RSS MiB"], rows)


if __name__ == "__main__":
    main()
