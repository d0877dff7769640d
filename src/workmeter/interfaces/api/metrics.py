"""A tiny Prometheus registry: counters, gauges and histograms in text format 0.0.4.

Only what ``/metrics`` needs; thread-safe (the writer thread and the event
loop both record). Label values are escaped per the exposition format.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable

LATENCY_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = tuple[tuple[str, str], ...]


def _fmt_labels(labels: Labels, extra: tuple[tuple[str, str], ...] = ()) -> str:
    pairs = (*labels, *extra)
    if not pairs:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._help: dict[str, tuple[str, str]] = {}
        self._counters: dict[str, dict[Labels, float]] = {}
        self._hist: dict[str, dict[Labels, list[float]]] = {}
        self._gauges: dict[str, Callable[[], float]] = {}

    def counter(self, name: str, help_text: str) -> None:
        self._help[name] = ("counter", help_text)
        self._counters.setdefault(name, {})

    def histogram(self, name: str, help_text: str) -> None:
        self._help[name] = ("histogram", help_text)
        self._hist.setdefault(name, {})

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self._help[name] = ("gauge", help_text)
        self._gauges[name] = read

    def set(self, name: str, help_text: str, value: float) -> None:
        """A gauge whose value the caller sets (e.g. a cached count)."""
        self._help[name] = ("gauge", help_text)
        self._gauges[name] = lambda: value

    def inc(self, name: str, step: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0) + step

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._hist[name]
            counts = series.get(key)
            if counts is None:
                counts = series[key] = [0.0] * (len(LATENCY_BUCKETS) + 2)  # buckets.., +Inf, sum
            counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            counts[-1] += seconds

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._counters[name].get(tuple(sorted(labels.items())), 0)

    def render(self) -> str:
        """Text format 0.0.4: each metric's HELP and TYPE lines directly above its samples."""
        gauges = {name: read() for name, read in list(self._gauges.items())}  # read outside the lock
        lines: list[str] = []
        with self._lock:
            for name, (kind, help_text) in self._help.items():
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
                if kind == "counter":
                    lines += [f"{name}{_fmt_labels(k)} {_num(v)}" for k, v in self._counters[name].items()]
                elif kind == "histogram":
                    for k, counts in self._hist[name].items():
                        lines += self._hist_lines(name, k, counts)
                elif name in gauges:
                    lines.append(f"{name} {_num(gauges[name])}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _hist_lines(name: str, labels: Labels, counts: list[float]) -> list[str]:
        out, running = [], 0.0
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), counts[:-1], strict=True):
            running += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.append(f"{name}_bucket{_fmt_labels(labels, (('le', le),))} {_num(running)}")
        out.append(f"{name}_sum{_fmt_labels(labels)} {_num(counts[-1])}")
        out.append(f"{name}_count{_fmt_labels(labels)} {_num(running)}")
        return out


def standard_registry() -> Registry:
    """The server's metrics (gauges are attached when the writer exists)."""
    reg = Registry()
    reg.counter("workmeter_events_total", "Events committed by the ledger, by origin and status.")
    reg.counter("workmeter_otlp_spans_rejected_total", "OTLP spans refused before the ledger (no customer, ...).")
    reg.counter("workmeter_requests_total", "HTTP requests by route, method and status.")
    reg.histogram("workmeter_request_duration_seconds", "HTTP request latency by route and method.")
    reg.histogram("workmeter_commit_duration_seconds", "Group-commit transaction latency.")
    reg.counter("workmeter_commits_total", "Group-commit transactions.")
    return reg
