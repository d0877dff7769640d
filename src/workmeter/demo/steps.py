"""The ``workmeter demo`` tour: generate a month, ingest it, then run report steps in order.

The month is the calendar month before today (UTC) unless one is given, so
the demo always shows recent prices; with the fixed default seed the same
month always yields the same events, and running the demo twice shows the
ledger's idempotency (the second ingest is all duplicates).

Report steps are a registry: any package adds one with :func:`demo_step`
(``order`` places it; ingest is 10, usage 20). A step receives the
:class:`DemoRun` and returns rows (printed as a table, top rows only) or a
mapping (printed as key: value), or ``None`` to skip itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from workmeter.demo.generate import Counts, counts_of, iter_chunks
from workmeter.demo.world import customer_names

DEFAULT_EVENTS = 200_000
DEFAULT_SEED = 42
DEFAULT_CUSTOMERS = 50

Result = Sequence[Mapping[str, Any]] | Mapping[str, Any] | None


@dataclass
class DemoRun:
    """What the steps see: the app, the month, what was generated and what the ledger said."""

    app: Any  # workmeter.app.Workmeter
    start: datetime
    end: datetime
    counts: Counts = field(default_factory=Counts)
    ingest: dict[str, int] = field(default_factory=dict)
    top: int = 10
    customers: int = DEFAULT_CUSTOMERS


@dataclass(frozen=True)
class DemoStep:
    name: str
    title: str
    order: int
    run: Callable[[DemoRun], Result]
    columns: tuple[str, ...] | None = None


DEMO_STEPS: dict[str, DemoStep] = {}


def demo_step(name: str, title: str, order: int,
              columns: Sequence[str] | None = None) -> Callable[[Callable[[DemoRun], Result]], Callable[[DemoRun], Result]]:
    """Register a report step of the demo (a later registration under the same name replaces it)."""

    def register(fn: Callable[[DemoRun], Result]) -> Callable[[DemoRun], Result]:
        DEMO_STEPS[name] = DemoStep(name, title, order, fn, tuple(columns) if columns else None)
        return fn

    return register


def steps() -> list[DemoStep]:
    return sorted(DEMO_STEPS.values(), key=lambda s: (s.order, s.name))


def previous_month(today: datetime | None = None) -> tuple[datetime, datetime]:
    """[first day of last month, first day of this month) in UTC."""
    now = (today or datetime.now(UTC)).astimezone(UTC)
    end = datetime(now.year, now.month, 1, tzinfo=UTC)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end


def generate_and_ingest(run: DemoRun, events: int, seed: int, customers: int,
                        progress: Callable[[int], None] | None = None) -> None:
    """Generate the month chunk by chunk and ingest each chunk through the ledger's Arrow path."""
    days = (run.end - run.start).days
    run.customers = customers
    for table in iter_chunks(events, seed, run.start, days, customers):
        run.counts.add(counts_of(table))
        report = run.app.ledger.ingest_arrow(table, origin=f"demo seed={seed}")
        for key, value in report.summary().items():
            run.ingest[key] = run.ingest.get(key, 0) + value
        if progress:
            progress(table.num_rows)


@demo_step("ingest", "ingest: what the ledger did with the month", 10)
def _ingest(run: DemoRun) -> Result:
    expected = {"accepted": run.counts.accepted, "duplicates": run.counts.duplicates,
                "conflicts": run.counts.conflicts, "rejected": run.counts.rejected}
    return [{"status": k, "events": run.ingest.get(k, 0), "generated as": expected[k]} for k in expected]


@demo_step("rejects", "rejected events by reason", 15)
def _rejects(run: DemoRun) -> Result:
    if not run.ingest.get("rejected"):
        return None
    reasons = Counter(re.sub(r'"[^"]*"', '"…"', r["reason"])
                      for r in run.app.ledger.rejects(limit=run.ingest["rejected"]))
    return [{"reason": reason, "events": n} for reason, n in reasons.most_common()]


@demo_step("usage", "usage by customer (top rows by events)", 20)
def _usage(run: DemoRun) -> Result:
    names = customer_names(max(run.customers, 1))
    rows = sorted(run.app.usage("customer", run.start, run.end), key=lambda r: -int(r["events"]))
    keep = ("events", "input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "cost", "unpriced_events")
    return [{"customer": r["customer"], "name": names.get(r["customer"], ""), **{k: r[k] for k in keep if k in r}}
            for r in rows[: run.top]]
