"""Demo commands: ``generate`` (fast synthetic CloudEvents files) and ``demo`` (a month, ingested and reported)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from workmeter.core.timeutil import month_bounds, parse_instant
from workmeter.interfaces.cli.common import console, err_console, print_json, print_table, state, want_json


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("demo")(demo)


@contextmanager
def _progress(total: int, label: str, quiet: bool) -> Iterator[Any]:
    columns = (TextColumn(label), BarColumn(), TaskProgressColumn(), TextColumn("{task.completed:,} events"),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True, disable=quiet) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def generate(
    ctx: typer.Context,
    events: int = typer.Option(1_000_000, "--events", min=0, help="How many events to write."),
    out: Path = typer.Option(..., "--out", help="FILE.parquet, FILE.ndjson (or .jsonl) or FILE.json."),
    seed: int = typer.Option(1, "--seed", help="Same seed, start and sizes: the same events."),
    start: str = typer.Option(None, "--start", help="First day (default: first day of last month, UTC)."),
    days: int = typer.Option(30, "--days", min=1),
    customers: int = typer.Option(50, "--customers", min=1),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Write realistic usage and task events (with duplicates, conflicts and bad events), fast."""
    _keep_arrow_memory()
    from workmeter.demo.generate import Counts, counts_of, iter_chunks
    from workmeter.demo.output import infer_format, write_chunks
    from workmeter.demo.steps import previous_month

    infer_format(out)
    first = parse_instant(start, field="--start") if start else previous_month()[0]
    total = Counts()

    def chunks() -> Iterator[Any]:
        for table in iter_chunks(events, seed, first, days, customers, workers=2):
            total.add(counts_of(table))
            yield table

    quiet = want_json(ctx, json_out) or events < 200_000
    began = time.perf_counter()
    with _progress(events, f"generate {out.name}", quiet) as advance:
        written = write_chunks(chunks(), out, on_written=advance)
    seconds = time.perf_counter() - began
    rate = written / seconds if seconds > 0 else 0.0
    summary = {"path": str(out), "events": written, "seconds": round(seconds, 3),
               "events_per_second": round(rate), "accepted": total.accepted, "duplicates": total.duplicates,
               "conflicts": total.conflicts, "rejected": total.rejected}
    if want_json(ctx, json_out):
        print_json(summary)
    else:
        err_console.print(f"wrote {written:,} events to {out} in {seconds:.2f}s ({rate:,.0f} events/s): "
                          f"{total.accepted:,} valid, {total.duplicates:,} duplicates, "
                          f"{total.conflicts:,} conflicts, {total.rejected:,} bad")


def _keep_arrow_memory() -> None:
    """Let Arrow's allocator (mimalloc) keep freed pages for the next chunk instead of returning them
    at once: every chunk needs the same ~1 GB again, and faulting it back in costs more CPU than
    generating it. Only possible before pyarrow is loaded; an explicit setting wins."""
    if "pyarrow" not in sys.modules:
        os.environ.setdefault("MIMALLOC_PURGE_DELAY", "10000")


def demo(
    ctx: typer.Context,
    events: int = typer.Option(200_000, "--events", min=1, help="Events in the month."),
    seed: int = typer.Option(42, "--seed"),
    month: str = typer.Option(None, "--month", help="YYYY-MM (default: last month, UTC)."),
    customers: int = typer.Option(50, "--customers", min=1),
    top: int = typer.Option(10, "--top", min=1, help="Rows shown per report."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Generate a realistic month for ~50 customers, ingest it, and tour the reports."""
    from workmeter.demo import tour  # noqa: F401  (registers the report steps)
    from workmeter.demo.steps import DemoRun, generate_and_ingest, previous_month, steps

    start, end = month_bounds(month) if month else previous_month()
    run = DemoRun(state(ctx).app(), start, end, top=top)
    quiet = want_json(ctx, json_out)
    if not quiet:
        err_console.print(f"demo: {events:,} events for {customers} customers in {start:%B %Y} "
                          f"(seed {seed}) into {state(ctx).db}")
    with _progress(events, "generate + ingest", quiet) as advance:
        generate_and_ingest(run, events, seed, customers, progress=advance)
    results: dict[str, Any] = {}
    for step in steps():
        result = step.run(run)
        if result is None:
            continue
        results[step.name] = result
        if not quiet:
            _show(step.title, result, step.columns)
    if quiet:
        print_json({"month": f"{start:%Y-%m}", "events": events, "seed": seed, "steps": results})


def _show(title: str, result: Any, columns: tuple[str, ...] | None) -> None:
    if isinstance(result, dict):
        console.print(f"[bold]{title}[/bold]")
        for key, value in result.items():
            console.print(f"  {key}: {value}")
    else:
        print_table(list(result), columns, title)
