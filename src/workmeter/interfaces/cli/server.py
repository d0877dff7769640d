"""Server commands: ``workmeter serve`` and ``workmeter keys create|list|revoke``.

The DuckDB file is locked by a running server, so manage keys either before
starting it or through the admin API (``POST /api/v1/keys``).
"""

from __future__ import annotations

import typer

from workmeter.interfaces.cli.common import err_console, print_json, report, state, want_json


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    keys = typer.Typer(help="API keys: scoped, optionally bound to one customer, stored hashed.",
                       no_args_is_help=True)
    keys.command("create")(keys_create)
    keys.command("list")(keys_list)
    keys.command("revoke")(keys_revoke)
    app.add_typer(keys, name="keys")


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", envvar="WORKMETER_HOST"),
    port: int = typer.Option(8080, "--port", envvar="WORKMETER_PORT"),
    no_auth: bool = typer.Option(False, "--no-auth", help="No API keys (local use only: anyone can read all)."),
    max_body_mb: int = typer.Option(32, "--max-body-mb", envvar="WORKMETER_MAX_BODY_MB",
                                    help="Largest request body (after gzip), MiB."),
    max_events: int = typer.Option(10_000, "--max-events", envvar="WORKMETER_MAX_EVENTS",
                                   help="Most events per ingest request."),
    max_queued: int = typer.Option(200_000, "--max-queued-events", envvar="WORKMETER_MAX_QUEUED_EVENTS",
                                   help="Queued events before ingest answers 429."),
    customer_attribute: list[str] = typer.Option(
        None, "--customer-attribute", envvar="WORKMETER_CUSTOMER_ATTRIBUTES",
        help="OTLP span/resource attribute naming the customer (repeatable; default workmeter.customer)."),
    otlp_hold: float = typer.Option(600.0, "--otlp-hold", envvar="WORKMETER_OTLP_HOLD", min=0,
                                    help="Seconds an OTLP model call waits for its agent spans (0: never)."),
    db_threads: int = typer.Option(None, "--db-threads", envvar="WORKMETER_DB_THREADS", min=1,
                                   help="DuckDB worker threads (default: one per core; 1 suits a small ingest box)."),
    log_level: str = typer.Option("info", "--log-level", envvar="WORKMETER_LOG_LEVEL"),
) -> None:
    """Run the HTTP API, the OTLP receiver and the ingest endpoint in one process."""
    from workmeter.interfaces.api.server import run
    from workmeter.interfaces.api.settings import DEFAULT_CUSTOMER_ATTRIBUTES, ServerSettings

    run(ServerSettings(
        db=state(ctx).db, host=host, port=port, auth=not no_auth,
        max_body_bytes=max_body_mb * 1024 * 1024, max_events_per_request=max_events,
        max_queued_events=max_queued,
        customer_attributes=tuple(customer_attribute or DEFAULT_CUSTOMER_ATTRIBUTES),
        db_threads=db_threads, log_level=log_level, otlp_hold_seconds=otlp_hold,
    ))


def keys_create(
    ctx: typer.Context,
    scope: str = typer.Option(..., "--scope", help="ingest | read | admin"),
    customer: str = typer.Option(None, "--customer", help="Bind the key to one customer's data."),
    name: str = typer.Option(None, "--name", help="A label to recognize the key by."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Create a key. The full key is printed once; only its hash is stored."""
    from workmeter.interfaces.api.routes_keys import created

    key, secret = state(ctx).app().keys.create(scope, customer=customer, name=name)
    if want_json(ctx, json_out):
        print_json(created(key, secret))
        return
    err_console.print(f"created {key.prefix} (scope {key.scope}"
                      f"{', customer ' + key.customer if key.customer else ''}); store it now, "
                      "it is not shown again:")
    typer.echo(secret)


def keys_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Every key with its scope, customer, and created / revoked / last-used times."""
    rows = [k.as_dict() for k in state(ctx).app().keys.list()]
    report(ctx, rows, json_flag=json_out, title="API keys",
           columns=["prefix", "name", "scope", "customer", "created_at", "last_used_at", "revoked_at"])


def keys_revoke(ctx: typer.Context, key_id: str = typer.Argument(..., metavar="ID"),
                json_out: bool = typer.Option(False, "--json")) -> None:
    """Revoke a key by id or prefix (wm_…); it never authenticates again."""
    key = state(ctx).app().keys.revoke(key_id)
    if want_json(ctx, json_out):
        print_json(key.as_dict())
    else:
        err_console.print(f"revoked {key.prefix}")
