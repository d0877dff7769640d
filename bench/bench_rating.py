"""Benchmark: rate + aggregate N ledger events to per-customer monthly cost.

Generates a synthetic ledger with DuckDB ``range()`` (no Python per row), then
prints, in the same run: a plain SUM of tokens per customer-month over the
same rows, the rated queries (``rated_events`` summed per customer-month, and
``cost_by``: events priced as integers, summed, scaled once — exact decimals
both), their ratios to the plain SUM, and per-event ``genai_prices.calc_price``
on a sample, extrapolated to N. Every query groups by the same UTC month
expression (:func:`workmeter.store.sqltime.utc_month_sql`); the plain SUM with
``date_trunc('month', time)`` on the TIMESTAMPTZ column (ICU time zone code)
is printed beside, once, for reference. Peak RSS is reported for the whole
process (generation included when the database is new: reuse ``--db`` to
measure without it; ``--memory-limit`` bounds DuckDB's buffer pool).

    PYTHONPATH=src .venv/bin/python bench/bench_rating.py --events 5_000_000
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workmeter.app import Workmeter
from workmeter.rating.aggregate import cost_by
from workmeter.rating.keyed import fill_cells
from workmeter.store.sqltime import utc_month_sql

#: (provider, model, tier) mix: flat, tiered (>200k), dated change, time-of-day, batch, unknown.
KEYS = [
    ("anthropic", "claude-sonnet-4-5-20250929", None),
    ("anthropic", "claude-3-7-sonnet-20250219", None),
    ("anthropic", "claude-haiku-4-5", "batch"),
    ("openai", "gpt-4o", "default"),
    ("openai", "o3", None),
    ("openai", "gpt-5", "priority"),
    ("google", "gemini-2.5-pro", None),
    ("deepseek", "deepseek-chat", None),
    ("openai", "gpt-unknown-model", None),
]

GENERATE = """
INSERT INTO events (seq, key_hash, source, id, type, subject, time, provider, model, service_tier,
                    input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, web_search, rate_key)
SELECT i, hash(i), 'bench', i::VARCHAR, 'llm.usage', 'cus_' || (hash(i * 7) % {customers}),
       TIMESTAMPTZ '2025-04-01 00:00:00+00' + to_microseconds((hash(i * 3) % {span_us})::BIGINT),
       k.provider, k.model, k.tier,
       (hash(i * 11) % 4000)::BIGINT,
       CASE WHEN i % 3 = 0 THEN (hash(i * 13) % 30000)::BIGINT ELSE 0 END,
       CASE WHEN i % 5 = 0 THEN (hash(i * 17) % 8000)::BIGINT ELSE 0 END,
       CASE WHEN i % 50 = 0 THEN (hash(i * 19) % 8000)::BIGINT ELSE 0 END,
       (hash(i * 23) % 1500)::BIGINT, 0,
       CASE WHEN i % 97 = 0 THEN 1 ELSE 0 END, k.idx + 1
FROM range({n}) t(i)
JOIN keys k ON k.idx = i % {nkeys}
"""

MONTH = utc_month_sql("time")
SUMMED = "sum(input + cache_read + cache_write_5m + cache_write_1h + output + web_search) AS units"
PLAIN = f"SELECT subject, {MONTH} AS month, {SUMMED} FROM live_events WHERE type = 'llm.usage' GROUP BY ALL"
PLAIN_ICU = PLAIN.replace(MONTH, "date_trunc('month', time)")

RATED = f"""
SELECT subject, {MONTH} AS month, sum(cost) AS cost,
       count(*) FILTER (WHERE NOT priced) AS unpriced_events
FROM rated_events GROUP BY ALL
"""


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn, repeat: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Best (wall seconds, CPU seconds of this process) over ``repeat`` runs.

    CPU seconds are what to compare on a shared machine: wall time swings with other load.
    """
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), cpu_seconds()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, cpu_seconds() - c0)
    return wall, cpu


def generate(wm: Workmeter, n: int, customers: int) -> None:
    con = wm.db.conn
    con.execute("CREATE TEMP TABLE keys (idx INTEGER, provider VARCHAR, model VARCHAR, tier VARCHAR)")
    con.executemany("INSERT INTO keys VALUES (?, ?, ?, ?)", [[i, *k] for i, k in enumerate(KEYS)])
    # the rate keys the ledger would give these (provider, model, service_tier) at ingest
    con.execute("INSERT INTO usage_keys SELECT idx + 1, provider, model, tier FROM keys")
    span_us = int(timedelta(days=180).total_seconds() * 1_000_000)
    con.execute(GENERATE.format(n=n, customers=customers, span_us=span_us, nkeys=len(KEYS)))
    con.execute("CHECKPOINT")


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def calc_price_rate(sample: int) -> float:
    """Per-event genai_prices.calc_price throughput (events/s) on a sample."""
    import genai_prices
    from genai_prices import Usage

    rnd = random.Random(1)
    cases = [(rnd.choice(KEYS[:8]), rnd.randrange(4000), rnd.randrange(1500)) for _ in range(sample)]
    t0 = time.perf_counter()
    for (provider, model, _), inp, out in cases:
        genai_prices.calc_price(Usage(input_tokens=inp, output_tokens=out), model, provider_id=provider,
                                genai_request_timestamp=datetime(2025, 5, 1, tzinfo=UTC))
    return sample / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=5_000_000)
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sample", type=int, default=5000)
    ap.add_argument("--db", type=Path, default=None, help="keep the generated database here")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 900MB (default: DuckDB's)")
    args = ap.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "bench.duckdb"
    options = {"memory_limit": args.memory_limit} if args.memory_limit else {}
    wm = Workmeter.open(path, threads=args.threads, **options)
    if wm.db.read().execute("SELECT count(*) FROM events").fetchone() == (0,):
        t0 = time.perf_counter()
        generate(wm, args.events, args.customers)
        print(f"generated {args.events:,} events in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    t0 = time.perf_counter()
    rater = wm.rater  # rates the new keys and stores the price cells of every row (the first time)
    rater.refresh()
    with wm.db.write() as con:  # the cells the ledger stores at ingest (generation inserted rows directly)
        fill_cells(con)
    wm.db.checkpoint()
    cells_s = time.perf_counter() - t0
    cur = wm.db.read()
    cur.execute("SET enable_progress_bar = false")
    n = cur.execute("SELECT count(*) FROM live_events").fetchone()[0]  # type: ignore[index]
    plain = timed(lambda: cur.execute(PLAIN).fetchall())
    rated = timed(lambda: cur.execute(RATED).fetchall())
    summed = timed(lambda: cost_by(wm.db, ["subject", MONTH]))
    computed = timed(lambda: cost_by(wm.db, ["subject", MONTH], stored_cells=False))
    icu = timed(lambda: cur.execute(PLAIN_ICU).fetchall(), repeat=1)
    view_rows = sorted(tuple(r) for r in cur.execute(RATED).fetchall())
    same = all(view_rows == sorted((r["g0"], r["g1"], r["cost"], r["unpriced_events"])
                                   for r in cost_by(wm.db, ["subject", MONTH], stored_cells=stored))
               for stored in (True, False))
    per_event = calc_price_rate(args.sample)
    extrapolated = n / per_event
    print("wall seconds (CPU seconds of all DuckDB threads); ratios on CPU seconds; every query groups by "
          "(customer, UTC month)")
    print(f"keys rated and price cells stored for rows inserted without them (the ledger stores them at ingest): "
          f"{cells_s:.2f}s")
    print("| rows | plain SUM | rated (view) | ratio | rated (cost_by: stored cells) | ratio | "
          "cost_by, cells computed | ratio | equal | "
          "plain SUM, date_trunc on TIMESTAMPTZ | calc_price/event extrapolated | speed-up | peak RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:-:|---:|---:|---:|---:|")
    print(f"| {n:,} | {plain[0]:.2f}s ({plain[1]:.2f}) | {rated[0]:.2f}s ({rated[1]:.2f}) | "
          f"{rated[1] / plain[1]:.2f}x | {summed[0]:.2f}s ({summed[1]:.2f}) | {summed[1] / plain[1]:.2f}x "
          f"| {computed[0]:.2f}s ({computed[1]:.2f}) | {computed[1] / plain[1]:.2f}x "
          f"| {'yes' if same else 'NO'} | {icu[0]:.2f}s ({icu[1]:.2f}) | {extrapolated:,.0f}s ({per_event:,.0f}/s) | "
          f"{extrapolated / min(rated[0], summed[0]):,.0f}x | {peak_rss_mib():,.0f} |")
    wm.close()


if __name__ == "__main__":
    main()
