"""Ledger commands: ingest, usage, events void/amend, rejects, conflicts."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from workmeter.core.errors import InvalidInput
from workmeter.core.timeutil import optional
from workmeter.interfaces.cli.common import (
    check_range,
    err_console,
    print_error,
    print_json,
    report,
    state,
    want_json,
)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("usage")(usage)
    app.command("rejects")(rejects)
    app.command("conflicts")(conflicts)
    events = typer.Typer(help="Corrections: void or amend an accepted event (audited, never an UPDATE).",
                         no_args_is_help=True)
    events.command("void")(void)
    events.command("amend")(amend)
    events.command("history")(history)
    app.add_typer(events, name="events")


def ingest(
    ctx: typer.Context,
    files: list[str] = typer.Argument(..., help="Event files (ndjson, json, csv, parquet); - reads stdin."),
    fmt: str = typer.Option(None, "--format", help="ndjson|json|csv|parquet (default: from the extension)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Ingest CloudEvents files. Rejects are reported, not fatal; exit 1 only when nothing could be read."""
    app = state(ctx).app()
    from workmeter.ledger.ingest import IngestReport

    total = IngestReport()
    read_any = False
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} events"),
                  TimeElapsedColumn(), console=err_console, transient=True,
                  disable=want_json(ctx, json_out)) as bar:
        for path in files:
            task = bar.add_task(f"ingest {path}", total=None)
            try:
                total += app.ledger.ingest_file(path, fmt, progress=lambda n, t=task: bar.advance(t, n))
                read_any = True
            except InvalidInput as exc:
                exc.where = exc.where or path
                print_error(exc)
    if want_json(ctx, json_out):
        print_json(total.summary())
    else:
        s = total.summary()
        err_console.print(f"accepted {s['accepted']:,} · duplicates {s['duplicates']:,} · "
                          f"conflicts {s['conflicts']:,} · rejected {s['rejected']:,}")
        if s["rejected"] or s["conflicts"]:
            err_console.print("see `workmeter rejects` and `workmeter conflicts` for reasons")
    if not read_any:
        raise typer.Exit(1)


def usage(
    ctx: typer.Context,
    by: str = typer.Option("customer", "--by", help="Group keys: customer,model,provider,day,month,team,"
                                                    "project,workflow,user,task,service_tier"),
    start: str = typer.Option(None, "--from", help="Start (inclusive): date or RFC 3339 time."),
    end: str = typer.Option(None, "--to", help="End (exclusive): date or RFC 3339 time."),
    customer: list[str] = typer.Option(None, "--customer", help="Only these customers."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Event counts, token buckets and cost per group."""
    app = state(ctx).app()
    since, until = optional(start, "--from"), optional(end, "--to")
    check_range(since, until)
    rows = app.usage(by, since, until, customer or None)
    report(ctx, rows, json_flag=json_out, title="usage")


def rejects(ctx: typer.Context, limit: int = typer.Option(50, "--limit"),
            json_out: bool = typer.Option(False, "--json")) -> None:
    """Events that were refused, with the reason and where they came from."""
    rows = state(ctx).app().ledger.rejects(limit)
    if not want_json(ctx, json_out):
        for r in rows:
            r["raw"] = (r["raw"] or "")[:60]
    report(ctx, rows, json_flag=json_out, title="rejected events")


def conflicts(ctx: typer.Context, limit: int = typer.Option(50, "--limit"),
              json_out: bool = typer.Option(False, "--json")) -> None:
    """Events re-sent with a known (source, id) but a different payload; the first one stands."""
    rows = state(ctx).app().ledger.conflicts(limit)
    if not want_json(ctx, json_out):
        for r in rows:
            r["raw"] = (r["raw"] or "")[:60]
    report(ctx, rows, json_flag=json_out, title="conflicts")


def void(ctx: typer.Context, source: str, event_id: str = typer.Argument(..., metavar="ID"),
         reason: str = typer.Option(..., "--reason")) -> None:
    """Void an event: reports stop counting it; the original stays in the ledger."""
    rev = state(ctx).app().ledger.void(source, event_id, reason)
    err_console.print(f"voided {source}/{event_id} (revision {rev})")


def amend(ctx: typer.Context, file: Path = typer.Argument(..., help="JSON file with the replacement event."),
          reason: str = typer.Option(..., "--reason")) -> None:
    """Replace an event's payload (same source and id); the original stays auditable."""
    try:
        event = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read the replacement event: {exc}", where=str(file)) from None
    rev = state(ctx).app().ledger.amend(event, reason)
    err_console.print(f"amended {event.get('source')}/{event.get('id')} (revision {rev})")


def history(ctx: typer.Context, source: str, event_id: str = typer.Argument(..., metavar="ID"),
            json_out: bool = typer.Option(False, "--json")) -> None:
    """Every correction of one event."""
    from workmeter.ledger.corrections import history as corrections_history

    report(ctx, corrections_history(state(ctx).app().db, source, event_id), json_flag=json_out)
