"""The ``workmeter`` command line: global options and command registration.

Each command group lives in its own module in this package and exposes
``register(app)``. Business rules stay out of this package: commands parse
arguments, call services from :mod:`workmeter.app`, and print.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import typer

from workmeter.interfaces.cli.common import State, run_guarded

app = typer.Typer(
    name="workmeter",
    help="Usage-based billing and value metering for AI work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Command modules, registered in this order.
COMMAND_MODULES: tuple[str, ...] = (
    "ingest",
    "demo",
    "prices",
    "billing",
    "work",
    "server",
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: Path = typer.Option(
        Path(os.environ.get("WORKMETER_DB", "workmeter.duckdb")),
        "--db",
        envvar="WORKMETER_DB",
        help="The DuckDB file (created if missing).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
) -> None:
    ctx.obj = State(db=db, json=json_out)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"workmeter.interfaces.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"workmeter.interfaces.cli.{name}":
                continue
            raise
        module.register(app)


_register_all()


def main() -> None:
    run_guarded(app)


if __name__ == "__main__":
    main()
