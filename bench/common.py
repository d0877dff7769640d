"""Shared helpers for benchmark scripts: timing, peak RSS sampling, table printing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil
from rich.console import Console
from rich.table import Table


@dataclass
class RssSampler:
    """Samples this process's RSS every 20 ms in a background thread; ``peak`` in bytes."""

    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> RssSampler:
        proc = psutil.Process()
        self.peak = proc.memory_info().rss

        def run() -> None:
            while not self._stop.wait(0.02):
                self.peak = max(self.peak, proc.memory_info().rss)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, psutil.Process().memory_info().rss)


@contextmanager
def timed() -> Iterator[list[float]]:
    out: list[float] = []
    start = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - start)


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right")
    for r in rows:
        table.add_row(*[f"{v:,.0f}" if isinstance(v, (int, float)) and abs(v) >= 100 else
                        (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in r])
    Console().print(table)


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"
