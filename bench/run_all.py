"""Run every benchmark at its default (modest) size, one after another.

Each script prints its own table with a baseline measured in the same run.
Pass sizes to the scripts directly for the issue-sized runs (see BENCHMARKS.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = ("bench_generate.py", "bench_ingest.py", "bench_rating.py", "bench_quote.py",
           "bench_invoices.py", "bench_workunits.py", "bench_http_ingest.py")


def main() -> int:
    here = Path(__file__).parent
    failed = []
    for name in SCRIPTS:
        print(f"\n=== {name} ===", flush=True)
        if subprocess.run([sys.executable, str(here / name)], cwd=here.parent).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
