"""Benchmark: ``invoices run`` for every customer over a month of ledger events.

Generates N usage events for C customers in October 2026 with DuckDB
``range()`` (no Python per row), bulk-loads C customers (four timezones) all
subscribed to one plan — flat fee, 20% markup on rated cost, graduated calls
on a meter, a minimum commitment — and prints, in the same run and over the
same rows:

* a plain DuckDB SUM of tokens per customer (the floor),
* the raw rating query (``rated_events`` summed per customer-month, exact),
* ``invoices run`` (drafts for every customer: one set-based pass, then the
  charge math per customer on the small aggregates) and its ratio to rating.

    PYTHONPATH=src .venv/bin/python bench/bench_invoices.py --events 50_000_000 --customers 10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from workmeter.app import Workmeter
from workmeter.rating.keyed import fill_cells

KEYS = [
    ("anthropic", "claude-sonnet-4-5-20250929", None),
    ("anthropic", "claude-haiku-4-5", "batch"),
    ("openai", "gpt-4o", "default"),
    ("openai", "o3", None),
    ("google", "gemini-2.5-pro", None),
    ("openai", "gpt-unknown-model", None),  # unpriced: counted as a warning on invoices
]

GENERATE = """
INSERT INTO events (seq, key_hash, source, id, type, subject, time, provider, model, service_tier,
                    input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, web_search, rate_key)
SELECT i, hash(i), 'bench', i::VARCHAR, 'llm.usage', 'cus_' || (hash(i * 7) % {customers}),
       TIMESTAMPTZ '2026-10-01 12:00:00+00' + to_microseconds((hash(i * 3) % {span_us})::BIGINT),
       k.provider, k.model, k.tier,
       (hash(i * 11) % 4000)::BIGINT,
       CASE WHEN i % 3 = 0 THEN (hash(i * 13) % 30000)::BIGINT ELSE 0 END,
       CASE WHEN i % 5 = 0 THEN (hash(i * 17) % 8000)::BIGINT ELSE 0 END, 0,
       (hash(i * 23) % 1500)::BIGINT, 0, 0, k.idx + 1
FROM range({n}) t(i) JOIN _keys k ON k.idx = i % {nkeys}
"""

PLAN = """
[plan]
key = "pro"
currency = "USD"

[[meter]]
key = "sonnet_calls"
event_type = "llm.usage"
aggregation = "count"
filter = { model = "claude-sonnet-4-5" }

[[charge]]
key = "platform_fee"
type = "flat"
amount = "99.00"

[[charge]]
key = "tokens"
type = "markup"
percent = "20"

[[charge]]
key = "calls"
type = "graduated"
meter = "sonnet_calls"
tiers = [ { up_to = 1000, unit_price = "0" }, { up_to = 100000, unit_price = "0.002" }, { unit_price = "0.001" } ]

[commitment]
minimum = "150.00"
"""

CUSTOMERS = """
INSERT INTO billing_customers
SELECT 'cus_' || i, 'Customer ' || i, 'USD',
       ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo'][1 + i % 4], 'WM', now()
FROM range({customers}) t(i)
"""
SUBSCRIPTIONS = """
INSERT INTO billing_subscriptions SELECT i + 1, 'cus_' || i, 'pro', 1, DATE '2026-09-01', now(), 'bench'
FROM range({customers}) t(i)
"""
PLAIN = """
SELECT subject, sum(input + cache_read + cache_write_5m + cache_write_1h + output) FROM live_events
WHERE type = 'llm.usage' AND time >= TIMESTAMPTZ '2026-09-30 10:00:00+00' AND time < TIMESTAMPTZ '2026-11-01 00:00:00+00'
GROUP BY ALL
"""
RATED = """
SELECT subject, date_trunc('month', time) AS month, sum(cost), count(*) FILTER (WHERE NOT priced)
FROM rated_events GROUP BY ALL
"""


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def setup(wm: Workmeter, events: int, customers: int, folder: Path) -> None:
    con = wm.db.conn
    con.execute("CREATE TEMP TABLE _keys (idx INTEGER, provider VARCHAR, model VARCHAR, tier VARCHAR)")
    con.executemany("INSERT INTO _keys VALUES (?, ?, ?, ?)", [[i, *k] for i, k in enumerate(KEYS)])
    # the rate keys the ledger would give these (provider, model, service tier) at ingest
    con.execute("INSERT INTO usage_keys SELECT idx + 1, provider, model, tier FROM _keys")
    span_us = 29 * 86_400 * 1_000_000  # Oct 1 12:00 UTC .. Oct 30 12:00 UTC: October in every timezone
    con.execute(GENERATE.format(n=events, customers=customers, span_us=span_us, nkeys=len(KEYS)))
    (folder / "pro.toml").write_text(PLAN)
    billing = wm.billing
    billing.apply_plans([folder / "pro.toml"])
    with wm.db.write() as w:  # bulk setup of the billing tables (the API adds customers one by one)
        w.execute(CUSTOMERS.format(customers=customers))
        w.execute(SUBSCRIPTIONS.format(customers=customers))
    con.execute("CHECKPOINT")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=5_000_000)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--db", type=Path, default=None, help="keep the generated database here (reused if present)")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    path = args.db or folder / "bench.duckdb"
    wm = Workmeter.open(path, threads=args.threads)
    wm.billing.clock = lambda: datetime(2026, 11, 2, tzinfo=UTC)
    if wm.db.read().execute("SELECT count(*) FROM events").fetchone() == (0,):
        t0 = time.perf_counter()
        setup(wm, args.events, args.customers, folder)
        print(f"generated {args.events:,} events, {args.customers:,} customers in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr)
    wm.rater.refresh()
    with wm.db.write() as con:  # the price cells the ledger stores at ingest (rows were inserted directly)
        fill_cells(con)
    wm.db.checkpoint()
    cur = wm.db.read()
    n = cur.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
    plain, _ = best_of(lambda: cur.execute(PLAIN).fetchall(), args.repeat)
    rated, _ = best_of(lambda: cur.execute(RATED).fetchall(), args.repeat)
    run, docs = best_of(lambda: wm.billing.run("2026-10"), args.repeat)
    total = sum(float(d["total"]) for d in docs)  # display only
    warned = sum(1 for d in docs if d["warnings"])
    rss = psutil.Process().memory_info().rss / 2**20
    print("| events | customers | plain SUM | raw rating | invoices run | run / rating | invoices | "
          "with unpriced warning | RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {n:,} | {args.customers:,} | {plain:.2f}s | {rated:.2f}s | {run:.2f}s | {run / rated:.2f}x | "
          f"{len(docs):,} (Σ ${total:,.0f}) | {warned:,} | {rss:,.0f} |")
    wm.close()


if __name__ == "__main__":
    main()
