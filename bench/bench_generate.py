"""Benchmark: ``workmeter generate`` to Parquet (target ≥ 1M events/s), beside baselines from the same run.

Rows:

- generate → Parquet: the CLI path (chunks of 500k built two at a time, background writer thread);
- generate only: building the Arrow tables, nothing written;
- write only: the CLI's Parquet writer (same settings) on one already generated chunk;
- baseline: pyarrow writing a table of random int64 with the same rows and columns (zstd).

Wall time, events/s, CPU seconds and CPU-µs per event (this machine is
shared: CPU time is the steadier figure; on 2 cores 1M events/s needs
generate → Parquet below 2 CPU-µs per event, and in practice about 1.85,
since the last chunk is written alone), and peak RSS. One untimed chunk
warms the process up first.

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
from workmeter.demo.output import write, write_chunks

START = datetime(2026, 10, 1, tzinfo=UTC)


def measure(label: str, n: int, fn: Callable[[], object]) -> list[object]:
    with RssSampler() as rss:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return [label, n, wall, n / wall, cpu, f"{cpu / n * 1e6:.2f}", rss.peak / 2**20]


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
        rows.append(measure("write only, 1 chunk", sample, lambda: write(table, Path(tmp) / "w.parquet")))
        rng = np.random.default_rng(0)
        ints = pa.table({c: rng.integers(0, 2**40, sample) for c in table.column_names})
        rows.append(measure("baseline: int64 → Parquet", sample,
                            lambda: pq.write_table(ints, Path(tmp) / "b.parquet", compression="zstd")))
    print(f"Parquet file {mb:,.1f} MiB ({mb * 2**20 / n:,.1f} bytes/event; {table.nbytes / sample:,.0f} in memory); "
          f"load average {os.getloadavg()[0]:.2f}")
    print_table(f"generate {n:,} events",
                ["step", "events", "seconds", "events/s", "cpu s", "µs/event", "RSS MiB"], rows)


if __name__ == "__main__":
    main()
