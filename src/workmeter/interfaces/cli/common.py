"""Shared CLI plumbing: state, output (tables or JSON), and the one error mapping."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from workmeter.core.errors import InvalidInput, NotFound, WorkmeterError

err_console = Console(stderr=True)
console = Console()

#: Exit codes: 0 ok, 1 program/storage error, 2 usage error, 3 unpriced (quotes), 4 not found.
EXIT_CODES: dict[type[WorkmeterError], int] = {InvalidInput: 2, NotFound: 4}


@dataclass
class State:
    db: Path
    json: bool = False
    _app: Any = field(default=None, repr=False)

    def app(self) -> Any:
        """The composition root for this invocation (opened once)."""
        if self._app is None:
            from workmeter.app import Workmeter

            self._app = Workmeter.open(self.db)
        return self._app


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def want_json(ctx: typer.Context, local: bool = False) -> bool:
    return local or state(ctx).json


def print_json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj, default=_default, option=orjson.OPT_INDENT_2).decode() + "\n")


def _default(obj: Any) -> Any:
    from decimal import Decimal

    from workmeter.core.money import fmt

    if isinstance(obj, Decimal):
        return fmt(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, title: str | None = None) -> None:
    """Rows as a table on stdout: values never cut short (see :mod:`.tables`)."""
    if not rows:
        console.print("[dim](no rows)[/dim]")
        return
    from workmeter.interfaces.cli.tables import render_table

    render_table(console, rows, columns, title)


def report(ctx: typer.Context, rows: Sequence[dict[str, Any]], *, json_flag: bool = False,
           columns: Sequence[str] | None = None, title: str | None = None) -> None:
    """Print rows as a Rich table, or as a JSON array with ``--json``."""
    if want_json(ctx, json_flag):
        print_json(list(rows))
    else:
        print_table(rows, columns, title)


def check_range(start: datetime | None, end: datetime | None) -> None:
    """``[--from, --to)`` must not be empty: an inverted range is an error, not an empty report."""
    if start is not None and end is not None and start >= end:
        raise InvalidInput("--from must be before --to", where="--from")


def print_error(exc: WorkmeterError) -> int:
    """The one mapping of workmeter errors to CLI output: one line on stderr (never wrapped) and an exit code."""
    where = f" ({exc.where})" if exc.where else ""
    err_console.print(f"[red]error[/red] {escape(f'[{exc.code}]{where}: {exc.message}')}", soft_wrap=True)
    return next((EXIT_CODES[k] for k in type(exc).__mro__ if k in EXIT_CODES), 1)


@contextmanager
def guarded() -> Iterator[None]:
    """Inside a command: turn a workmeter error into its message and exit code."""
    try:
        yield
    except WorkmeterError as exc:
        raise typer.Exit(print_error(exc)) from None


def run_guarded(app: typer.Typer) -> None:
    """Run the Typer app; workmeter errors that escape a command are mapped here, once."""
    try:
        app()
    except WorkmeterError as exc:
        sys.exit(print_error(exc))
