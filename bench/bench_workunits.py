"""Benchmark: per-task rollup over N usage events and M tasks, beside the plain rating time.

Generates a synthetic ledger with DuckDB ``range()`` (no Python per row):
M tasks (started; 80 % completed, 10 % failed, 10 % left open; 30 % with a
confirmed outcome and a value; every fifth a subtask of the task before it)
and N usage calls spread over them (5 % unattributed, 10 % carrying a
``data.prompt_hash`` so retries are counted). ``--layout time`` (default)
stores the calls in the order a ledger receives them: task after task, each
call in one of the 16 tasks running at that moment; ``--layout shuffled``
puts every call in a random task (no time order at all: far more groups
alive at once in every aggregation). Then, in the same run:

* rating: ``rated_events`` summed per customer-month (exact decimals);
* per-task rollup: ``Workmeter.work.work("workflow")`` — task state, outcome
  timeline, nesting, per-task cost and the workflow rollup, from scratch;
* the task listing size and the conservation check (Σ top-level task cost +
  unattributed = total).

The issue's target is 50M events / 1M tasks in ≤ 5 s on this 2-core machine:

    PYTHONPATH=src .venv/bin/python bench/bench_workunits.py --events 50_000_000 --tasks 1_000_000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workmeter.app import Workmeter
from workmeter.rating.keyed import fill_cells

MODELS = [("anthropic", "claude-sonnet-4-5"), ("anthropic", "claude-haiku-4-5"), ("openai", "gpt-4o"),
          ("google", "gemini-2.5-pro")]
WORKFLOWS = ["triage", "draft", "research", "code-review", "billing-agent", "search"]

TASKS = """
INSERT INTO events (seq, key_hash, source, id, type, subject, time, task_id, data)
WITH t AS (
  SELECT i, 'task_' || i AS tid, 'cus_' || ((i // 10) % {customers}) AS cust,
         TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_microseconds((i * 2_000_000)::BIGINT % 2_500_000_000_000) AS t0,
         '{workflows}'.split(',')[1 + (i % {nworkflows})] AS wf
  FROM range({m}) r(i)
), e AS (
  SELECT i, 0 AS k, 'task.started' AS type, cust, t0 AS time, tid,
         json_object('task_id', tid, 'workflow', wf,
                     'parent_task_id', CASE WHEN i % 5 = 1 THEN 'task_' || (i - 1) END) AS data FROM t
  UNION ALL
  SELECT i, 1, CASE WHEN i % 10 < 8 THEN 'task.completed' ELSE 'task.failed' END, cust,
         t0 + INTERVAL 20 MINUTE, tid, json_object('task_id', tid) FROM t WHERE i % 10 < 9
  UNION ALL
  SELECT i, 2, 'task.outcome', cust, t0 + INTERVAL 21 MINUTE, tid,
         json_object('task_id', tid, 'outcome', 'resolved', 'value', '12.50', 'confirmed', true)
  FROM t WHERE i % 10 < 3
)
SELECT {base} + i * 3 + k, hash('t', i, k), 'bench', 't' || i || '-' || k, type, cust, time, tid, data FROM e
"""

USAGE = """
INSERT INTO events (seq, key_hash, source, id, type, subject, time, provider, model, service_tier, task_id,
                    input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, web_search, workflow, data,
                    prompt_hash, rate_key)
SELECT {base} + i, hash('u', i), 'bench', 'u' || i, 'llm.usage',
       'cus_' || ((ti // 10) % {customers}),
       TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_microseconds((ti * 2_000_000)::BIGINT % 2_500_000_000_000)
         + to_microseconds((i % 1000) * 1000),
       k.provider, k.model, 'standard',
       CASE WHEN i % 20 = 0 THEN NULL ELSE 'task_' || ti END,
       (hash(i * 11) % 4000)::BIGINT, CASE WHEN i % 3 = 0 THEN (hash(i * 13) % 30000)::BIGINT ELSE 0 END,
       CASE WHEN i % 5 = 0 THEN (hash(i * 17) % 8000)::BIGINT ELSE 0 END, 0,
       (hash(i * 23) % 1500)::BIGINT, 0, 0,
       '{workflows}'.split(',')[1 + (ti % {nworkflows})],
       CASE WHEN i % 10 = 0 THEN json_object('prompt_hash', 'p' || (hash(i) % 3)) END,
       CASE WHEN i % 10 = 0 THEN 'p' || (hash(i) % 3) END, k.idx + 1
FROM (SELECT i, ({task_of_call})::BIGINT AS ti FROM range({n}) r(i)) x
JOIN _models k ON k.idx = x.i % {nmodels}
"""

RATED = """
SELECT subject, date_trunc('month', time) AS month, sum(cost) AS cost,
       count(*) FILTER (WHERE NOT priced) AS unpriced_events
FROM rated_events GROUP BY ALL
"""


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall time of ``repeat`` runs, the process CPU seconds of that run, and its result."""
    best, cpu, result = float("inf"), 0.0, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    return best, cpu, result


#: Which task a call belongs to. ``time``: calls arrive in the order a ledger receives them —
#: task after task, each call landing in one of the 16 tasks running at that moment;
#: ``shuffled``: every call in a random task (the ledger's rows in no time order at all).
LAYOUTS = {"time": "((i * {m}) // {n} + hash(i * 7) % 16) % {m}", "shuffled": "hash(i * 7) % {m}"}


def generate(wm: Workmeter, n: int, m: int, customers: int, layout: str = "time") -> None:
    con = wm.db.conn
    con.execute("CREATE TEMP TABLE _models (idx INTEGER, provider VARCHAR, model VARCHAR)")
    con.executemany("INSERT INTO _models VALUES (?, ?, ?)", [[i, *k] for i, k in enumerate(MODELS)])
    # the rate keys the ledger would give these (provider, model, service tier) at ingest
    con.execute("INSERT INTO usage_keys SELECT idx + 1, provider, model, 'standard' FROM _models")
    fmt = {"customers": customers, "workflows": ",".join(WORKFLOWS), "nworkflows": len(WORKFLOWS), "m": m,
           "n": n, "nmodels": len(MODELS)}
    fmt["task_of_call"] = LAYOUTS[layout].format(**fmt)
    con.execute(TASKS.format(base=0, **fmt))
    con.execute(USAGE.format(base=3 * m, **fmt))
    con.execute("CHECKPOINT")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=5_000_000)
    ap.add_argument("--tasks", type=lambda s: int(s.replace("_", "")), default=100_000)
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--db", type=Path, default=None, help="keep the generated database here")
    ap.add_argument("--layout", choices=sorted(LAYOUTS), default="time", help="physical order of the usage calls")
    args = ap.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "bench.duckdb"
    wm = Workmeter.open(path, threads=args.threads)
    generated = wm.db.read().execute("SELECT count(*) FROM events").fetchone() == (0,)
    if generated:
        t0 = time.perf_counter()
        generate(wm, args.events, args.tasks, args.customers, args.layout)
        print(f"generated {args.events:,} usage events and {args.tasks:,} tasks in "
              f"{time.perf_counter() - t0:.1f}s", file=sys.stderr)
    wm.rater.refresh()
    with wm.db.write() as con:  # the price cells the ledger stores at ingest (rows were inserted directly)
        fill_cells(con)
    wm.db.checkpoint()
    cur = wm.db.read()
    usage = cur.execute("SELECT count(*) FROM live_events WHERE type = 'llm.usage'").fetchone()[0]  # type: ignore[index]
    rating, rating_cpu, _ = best_of(lambda: cur.execute(RATED).fetchall(), args.repeat)
    rollup, rollup_cpu, rows = best_of(lambda: wm.work.work("workflow"), args.repeat)
    totals = wm.work.totals()
    balanced = totals["task_cost"] + totals["unattributed_cost"] == totals["total_cost"]
    tasks = sum(r["tasks_started"] for r in wm.work.work("workflow", scope="all"))
    print("| usage events | tasks | layout | rating (rated_events per customer-month) | per-task rollup | ratio "
          "| CPU s rating / rollup | load avg | workflows | conserved |")
    print("|---:|---:|:---|---:|---:|---:|---:|---:|---:|:---:|")
    print(f"| {usage:,} | {tasks:,} | {args.layout if generated else 'as stored'} | {rating:.3f}s | {rollup:.3f}s "
          f"| {rollup / rating:.2f}x | {rating_cpu:.2f} / {rollup_cpu:.2f} | {os.getloadavg()[0]:.1f} | {len(rows)} "
          f"| {'yes' if balanced else 'NO'} |")
    wm.close()


if __name__ == "__main__":
    main()
