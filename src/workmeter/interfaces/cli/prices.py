"""Pricing commands: prices sync|show|check|quote|versions|runs|books, rerate, unpriced."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import orjson
import typer

from workmeter.core.errors import InvalidInput
from workmeter.core.timeutil import optional, parse_instant
from workmeter.interfaces.cli.common import check_range, err_console, print_json, report, state, want_json

EXIT_UNPRICED = 3


def register(app: typer.Typer) -> None:
    prices = typer.Typer(help="The dated price catalog: sync, show, check, quote.", no_args_is_help=True)
    prices.command("sync")(sync)
    prices.command("show")(show)
    prices.command("check")(check)
    prices.command("quote")(quote)
    prices.command("versions")(versions)
    prices.command("runs")(runs)
    books = typer.Typer(help="The price books of the current catalog version: list, remove.", no_args_is_help=True)
    books.command("list")(books_list)
    books.command("remove")(books_remove)
    prices.add_typer(books, name="books")
    app.add_typer(prices, name="prices")
    app.command("rerate")(rerate)
    app.command("unpriced")(unpriced)


def sync(ctx: typer.Context,
         book: list[Path] = typer.Option(None, "--book", help="Price book TOML (repeatable); replaces the books "
                                                              "of the latest version. Default: keep them."),
         json_out: bool = typer.Option(False, "--json")) -> None:
    """Import the installed genai-prices data (+ price books) as a new catalog version if it changed."""
    app = state(ctx).app()
    result = app.catalog.sync(book or None)
    out = result.as_dict() | {"rating_run": app.rater.current_run().run_id}
    if want_json(ctx, json_out):
        print_json(out)
        return
    _print_sync(result)


def _print_sync(result: Any) -> None:
    verb = "created" if result.created else "current again" if result.changed else "unchanged"
    err_console.print(f"catalog {result.version} {verb} ({result.rows:,} price rows)")
    if result.changed and result.previous is not None:
        err_console.print("rated usage keeps its catalog until you run `workmeter rerate`")


def books_list(ctx: typer.Context, catalog_version: str = typer.Option(None, "--catalog-version"),
               json_out: bool = typer.Option(False, "--json")) -> None:
    """The price books of a catalog version (default: the current one), in the order they apply."""
    report(ctx, state(ctx).app().catalog.books(catalog_version), json_flag=json_out, title="price books")


def books_remove(ctx: typer.Context,
                 names: list[str] = typer.Argument(None, help="Book names (see `prices books list`)."),
                 all_books: bool = typer.Option(False, "--all", help="Remove every price book."),
                 json_out: bool = typer.Option(False, "--json")) -> None:
    """A new catalog version without these price books (the others are kept)."""
    if bool(names) == all_books:
        raise InvalidInput("name the books to remove, or pass --all (not both)", where="prices books remove")
    app = state(ctx).app()
    result = app.catalog.remove_books(None if all_books else names)
    if want_json(ctx, json_out):
        print_json(result.as_dict() | {"rating_run": app.rater.current_run().run_id})
        return
    _print_sync(result)


def show(ctx: typer.Context, model: str = typer.Argument(..., help="Model as recorded (aliases work)."),
         provider: str = typer.Option(None, "--provider"),
         at: str = typer.Option(None, "--at", help="Time (default: now)."),
         service_tier: str = typer.Option(None, "--service-tier"),
         catalog_version: str = typer.Option(None, "--catalog-version"),
         json_out: bool = typer.Option(False, "--json")) -> None:
    """The effective price card of a model at a time: every tier, window and input range."""
    app = state(ctx).app()
    card = app.catalog.show(model, provider, optional(at, "--at"), service_tier, catalog_version)
    if want_json(ctx, json_out):
        print_json(card)
        return
    err_console.print(f"{card['provider']}/{card['model']} at {card['at'].isoformat()} · catalog "
                      f"{card['catalog_version']} · USD per million tokens, per request for web_search/request")
    rows = card["rows"]
    cols = [c for c in (rows[0] if rows else {}) if any(r[c] is not None for r in rows)]
    report(ctx, rows, columns=cols, title=f"{card['provider']}/{card['model']}")


def check(ctx: typer.Context, catalog_version: str = typer.Option(None, "--catalog-version"),
          json_out: bool = typer.Option(False, "--json")) -> None:
    """Overlapping or missing price rows, and models seen in the ledger without a price."""
    from workmeter.catalog.check import check_catalog

    app = state(ctx).app()
    issues = check_catalog(app.catalog.load(catalog_version))
    seen = [{"kind": "unpriced in ledger", "provider": r["provider"], "model": r["model"],
             "service_tier": r["service_tier"], "detail": f"{r['reason']} ({r['events']:,} events)"}
            for r in app.rater.unpriced()]
    report(ctx, issues + seen, json_flag=json_out, title="catalog check")


def _quote_one(quoter: Any, provider: str | None, model: str | None, at: str | None, usage: str,
               usage_format: str | None, service_tier: str | None) -> dict[str, Any]:
    try:
        parsed = orjson.loads(usage)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"--usage is not JSON: {exc}", where="--usage") from None
    return quoter.quote(provider, model, at, parsed, usage_format, service_tier)  # type: ignore[no-any-return]


def quote(ctx: typer.Context,
          provider: str = typer.Option(None, "--provider"),
          model: str = typer.Option(None, "--model"),
          at: str = typer.Option(None, "--at", help="Request time (default: now)."),
          usage: str = typer.Option(None, "--usage", help="The provider's usage object, as JSON."),
          usage_format: str = typer.Option(None, "--usage-format",
                                           help="anthropic|openai-chat|openai-responses|gemini|otel|buckets"),
          service_tier: str = typer.Option(None, "--service-tier", help="The tier served (batch, flex, …)."),
          batch: Path = typer.Option(None, "--batch", help="ndjson file, one request per line; - for stdin."),
          json_out: bool = typer.Option(False, "--json")) -> None:
    """Price one usage object, or a file of them. Exit 3 when anything is unpriced."""
    from workmeter.rating.quote import Quoter

    app = state(ctx).app()
    quoter = Quoter(app.rater.segments())
    if batch is not None:
        _quote_batch(quoter, batch)
        return
    if usage is None or model is None:
        raise InvalidInput("give --model and --usage, or --batch FILE", where="prices quote")
    if at is not None:
        parse_instant(at, field="--at")
    result = _quote_one(quoter, provider, model, at, usage, usage_format, service_tier)
    if want_json(ctx, json_out):
        print_json(result)
    else:
        _print_quote(ctx, result)
    if result["status"] != "priced":
        raise typer.Exit(EXIT_UNPRICED)


def _print_quote(ctx: typer.Context, result: dict[str, Any]) -> None:
    if result["status"] != "priced":
        err_console.print(f"[yellow]unpriced[/yellow]: {result['reason']}")
        return
    report(ctx, result["lines"], title=f"total {result['total']} USD · catalog {result['catalog_version']}")


def _quote_batch(quoter: Any, path: Path) -> None:
    """ndjson in, ndjson out, in order. Exit 3 when any line is unpriced or invalid."""
    t0, n, bad = time.perf_counter(), 0, 0
    stream = sys.stdin.buffer if str(path) == "-" else None
    try:
        handle = stream or path.open("rb")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", where="--batch") from None
    out = sys.stdout.buffer
    with handle:
        chunk: list[bytes] = []
        for result in quoter.quote_lines(handle):
            n += 1
            bad += result["status"] != "priced"
            chunk.append(orjson.dumps(result) + b"\n")
            if len(chunk) >= 4096:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    out.flush()
    elapsed = time.perf_counter() - t0
    err_console.print(f"{n:,} quotes in {elapsed:.2f}s ({n / max(elapsed, 1e-9):,.0f}/s), {bad:,} not priced")
    if bad:
        raise typer.Exit(EXIT_UNPRICED)


def versions(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Catalog versions, oldest first (immutable; each with its genai-prices version and books)."""
    rows = state(ctx).app().catalog.versions()
    if not want_json(ctx, json_out):
        for r in rows:
            r["books"] = ", ".join(b["name"] for b in r["books"] or [])
    report(ctx, rows, json_flag=json_out, title="catalog versions")


def runs(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Rating runs: which catalog version prices which time range (the latest covering a time wins)."""
    report(ctx, [r.as_dict() for r in state(ctx).app().rater.runs()], json_flag=json_out, title="rating runs")


def rerate(ctx: typer.Context,
           start: str = typer.Option(None, "--from", help="Start (inclusive); default: the beginning of time."),
           end: str = typer.Option(None, "--to", help="End (exclusive); default: the end of time."),
           catalog_version: str = typer.Option(None, "--catalog-version", help="Default: the latest version."),
           note: str = typer.Option(None, "--note"),
           json_out: bool = typer.Option(False, "--json")) -> None:
    """Record a new rating run: usage in [from, to) is priced by the catalog version from now on."""
    app = state(ctx).app()
    run = app.rater.rerate(optional(start, "--from"), optional(end, "--to"), catalog_version, note)
    if want_json(ctx, json_out):
        print_json(run.as_dict())
    else:
        err_console.print(f"rating run {run.run_id}: catalog {run.catalog_version} "
                          f"over [{run.as_dict()['from'] or '-∞'}, {run.as_dict()['to'] or '∞'})")


def unpriced(ctx: typer.Context,
             start: str = typer.Option(None, "--from"),
             end: str = typer.Option(None, "--to"),
             customer: list[str] = typer.Option(None, "--customer"),
             run: int = typer.Option(None, "--run", help="As priced by an older rating run."),
             json_out: bool = typer.Option(False, "--json")) -> None:
    """Usage events without a price, grouped by reason (never counted as $0)."""
    since, until = optional(start, "--from"), optional(end, "--to")
    check_range(since, until)
    rows = state(ctx).app().rater.unpriced(since, until, customer or None, run)
    report(ctx, rows, json_flag=json_out, title="unpriced usage")
