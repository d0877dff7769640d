"""Benchmark: ``workmeter prices quote --batch`` on N ndjson lines (target ≥ 20k quotes/s).

Writes a file of mixed Anthropic / OpenAI / Gemini usage objects, runs the real
CLI on it (a subprocess, output to /dev/null) and the in-process quoter, and
prints quotes per second for both.

    PYTHONPATH=src .venv/bin/python bench/bench_quote.py --lines 100000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from workmeter.app import Workmeter
from workmeter.rating.quote import Quoter


def make_lines(n: int, seed: int = 7) -> list[bytes]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
        kind = i % 4
        if kind == 0:
            item = {"provider": "anthropic", "model": "claude-sonnet-4-5-20250929", "at": day,
                    "usage": {"input_tokens": rnd.randrange(5000), "output_tokens": rnd.randrange(2000),
                              "cache_read_input_tokens": rnd.randrange(50_000),
                              "cache_creation_input_tokens": rnd.randrange(3000)}}
        elif kind == 1:
            item = {"provider": "openai", "model": "gpt-4o-2024-08-06", "at": day,
                    "usage": {"prompt_tokens": 4000, "completion_tokens": rnd.randrange(900),
                              "prompt_tokens_details": {"cached_tokens": rnd.randrange(4000)}}}
        elif kind == 2:
            item = {"provider": "google", "model": "gemini-2.5-pro", "at": day,
                    "usage": {"promptTokenCount": rnd.randrange(300_000), "candidatesTokenCount": 300,
                              "thoughtsTokenCount": rnd.randrange(900)}}
        else:
            item = {"provider": "openai", "model": "o3", "at": day, "service_tier": "batch",
                    "usage": {"prompt_tokens": 1200, "completion_tokens": rnd.randrange(4000)}}
        out.append(orjson.dumps(item))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    db, path = tmp / "q.duckdb", tmp / "batch.ndjson"
    lines = make_lines(args.lines)
    path.write_bytes(b"\n".join(lines) + b"\n")
    with Workmeter.open(db) as wm:
        quoter = Quoter(wm.rater.segments())
        t0 = time.perf_counter()
        results = list(quoter.quote_lines(lines))
        inproc = time.perf_counter() - t0
    priced = sum(r["status"] == "priced" for r in results)
    env = dict(os.environ, PYTHONPATH="src")
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        rc = subprocess.run([sys.executable, "-m", "workmeter.interfaces.cli.main", "--db", str(db), "prices",
                             "quote", "--batch", str(path), "--json"], stdout=sink, stderr=subprocess.PIPE,
                            env=env, check=False).returncode
    cli = time.perf_counter() - t0
    print("| lines | priced | in-process | quotes/s | CLI (incl. startup) | quotes/s | exit |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.lines:,} | {priced:,} | {inproc:.2f}s | {args.lines / inproc:,.0f} | {cli:.2f}s | "
          f"{args.lines / cli:,.0f} | {rc} |")


if __name__ == "__main__":
    main()
