"""Billing commands: meters, plans, customers, subscriptions, credits, invoices, statements.

Every command calls ``Workmeter.meters`` / ``Workmeter.billing``; money prints
as decimal strings. ``--json`` (global or per command) prints JSON on stdout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from workmeter.billing.periods import local_midnight
from workmeter.core.errors import InvalidInput
from workmeter.core.timeutil import parse_day, parse_instant
from workmeter.interfaces.cli.common import (
    check_range,
    console,
    guarded,
    print_json,
    report,
    state,
    want_json,
)

_JSON = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")
_PERIOD = typer.Option(..., "--period", help="The billing month, like 2026-10 (customer's timezone).")

meters_app = typer.Typer(help="Meters: named aggregations over events, computed at query time.", no_args_is_help=True)
plans_app = typer.Typer(help="Plans as code: versioned TOML files.", no_args_is_help=True)
customers_app = typer.Typer(help="Customers: currency, timezone, invoice issuer.", no_args_is_help=True)
subs_app = typer.Typer(help="Subscriptions: which plan version each customer is on, from when.",
                       no_args_is_help=True)
credits_app = typer.Typer(help="Prepaid credits: grants, burn order, real-time balance.", no_args_is_help=True)
invoices_app = typer.Typer(help="Invoices: preview, finalize, void, credit notes, rendering.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    for name, sub in (("meters", meters_app), ("plans", plans_app), ("customers", customers_app),
                      ("subscriptions", subs_app), ("credits", credits_app), ("invoices", invoices_app)):
        app.add_typer(sub, name=name)
    app.command("subscribe")(_guard(subscribe))
    app.command("statement")(_guard(statement))
    from workmeter.interfaces.cli import billing_edit  # noqa: F401 (customers edit, subscriptions end)


def _guard(fn: Callable[..., None]) -> Callable[..., None]:
    """Report workmeter errors as one line and an exit code from inside the command."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        with guarded():
            fn(*args, **kwargs)

    return run


def _command(group: typer.Typer, name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register_one(fn: Callable[..., None]) -> Callable[..., None]:
        group.command(name)(_guard(fn))
        return fn

    return register_one


def _moment(text: str | None, tz: str, option: str) -> datetime | None:
    """A date or month means local midnight in ``tz``; a time needs its offset (or is UTC)."""
    if not text:
        return None
    value = text.strip()
    if len(value) in (7, 10):
        try:
            day = date.fromisoformat(value + "-01" if len(value) == 7 else value)
        except ValueError:
            raise InvalidInput(f"{text!r} is not a date like 2026-10-01 or a month like 2026-10",
                               where=option) from None
        return local_midnight(day, tz)
    return parse_instant(value, field=option)


def _billing(ctx: typer.Context) -> Any:
    return state(ctx).app().billing


# -- meters -------------------------------------------------------------------------------------
@_command(meters_app, "query")
def meters_query(ctx: typer.Context, key: str = typer.Argument(..., help="Meter key (see `meters list`)."),
                 by: str = typer.Option("", "--by", help="Group keys: customer, model, provider, team, project, "
                                                          "workflow, user, task, attributes.X, data.X, and one "
                                                          "window of hour, day, month."),
                 start: str = typer.Option(None, "--from", help="From (date, month or RFC 3339 time)."),
                 end: str = typer.Option(None, "--to", help="Until, exclusive."),
                 tz: str = typer.Option("UTC", "--tz", help="Timezone of windows and of dates given."),
                 customer: list[str] = typer.Option(None, "--customer", help="Only these customers."),
                 json_out: bool = _JSON) -> None:
    """Aggregate a meter over [--from, --to), grouped by fields and a window."""
    keys = [k.strip() for k in by.split(",") if k.strip()]
    since, until = _moment(start, tz, "--from"), _moment(end, tz, "--to")
    check_range(since, until)
    rows = state(ctx).app().meters.query(key, keys, since, until, tz, customer or None)
    report(ctx, rows, json_flag=json_out, title=f"meter {key}")


@_command(meters_app, "list")
def meters_list(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Built-in meters and the meters plans defined."""
    rows = state(ctx).app().meters.all()
    report(ctx, rows, json_flag=json_out, columns=None if want_json(ctx, json_out) else
           ("key", "event_type", "aggregation", "property", "filter", "origin"), title="meters")


# -- plans --------------------------------------------------------------------------------------
@_command(plans_app, "apply")
def plans_apply(ctx: typer.Context, files: list[Path] = typer.Argument(..., help="Plan TOML files."),
                json_out: bool = _JSON) -> None:
    """Validate and apply plan files: a changed plan becomes a new version, the same one is a no-op."""
    results = _billing(ctx).apply_plans(files)
    report(ctx, [r.as_dict() for r in results], json_flag=json_out, title="plans applied")


@_command(plans_app, "list")
def plans_list(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Every version of every plan."""
    report(ctx, _billing(ctx).plans.all(), json_flag=json_out, title="plans")


# -- customers ----------------------------------------------------------------------------------
@_command(customers_app, "add")
def customers_add(ctx: typer.Context, customer_id: str = typer.Argument(..., metavar="ID"),
                  name: str = typer.Option(None, "--name"), currency: str = typer.Option("USD", "--currency"),
                  timezone: str = typer.Option("UTC", "--timezone", help="IANA name, e.g. Europe/Paris."),
                  issuer: str = typer.Option("WM", "--issuer", help="Invoice number prefix and sequence."),
                  json_out: bool = _JSON) -> None:
    """Add a customer (its id is the `subject` of its events)."""
    customer = _billing(ctx).add_customer(customer_id, name, currency, timezone, issuer)
    report(ctx, [customer.as_dict()], json_flag=json_out, title="customer")


@_command(customers_app, "list")
def customers_list(ctx: typer.Context, json_out: bool = _JSON) -> None:
    report(ctx, [c.as_dict() for c in _billing(ctx).customers.all()], json_flag=json_out, title="customers")


# -- subscriptions ------------------------------------------------------------------------------
def subscribe(ctx: typer.Context, customer: str = typer.Argument(...), plan: str = typer.Argument(...),
              start: str = typer.Option(..., "--start", help="Local date the plan starts (YYYY-MM-DD)."),
              version: int = typer.Option(None, "--version", help="Plan version (default: latest)."),
              json_out: bool = _JSON) -> None:
    """Put a customer on a plan from a date (a plan change mid-period prorates flat fees by day)."""
    span = _billing(ctx).subscribe(customer, plan, parse_day(start, "--start"), version)
    report(ctx, [span.as_dict()], json_flag=json_out, title="subscription")


@_command(subs_app, "list")
def subscriptions_list(ctx: typer.Context, customer: str = typer.Option(None, "--customer"),
                       json_out: bool = _JSON) -> None:
    """Each customer's plan spans [start, end)."""
    report(ctx, _billing(ctx).list_subscriptions(customer), json_flag=json_out, title="subscriptions")


@_command(subs_app, "migrate")
def subscriptions_migrate(ctx: typer.Context, plan: str = typer.Argument(...),
                          to_version: int = typer.Option(None, "--to-version", help="Default: latest."),
                          customer: str = typer.Option(None, "--customer", help="Only this customer."),
                          at: str = typer.Option(None, "--at", help="Local date (default: next period start)."),
                          json_out: bool = _JSON) -> None:
    """Move subscriptions on older versions of a plan to a newer one."""
    moved = _billing(ctx).migrate(plan, to_version, customer, parse_day(at, "--at") if at else None)
    report(ctx, moved, json_flag=json_out, title="migrated")


# -- credits ------------------------------------------------------------------------------------
@_command(credits_app, "grant")
def credits_grant(ctx: typer.Context, customer: str = typer.Argument(...), amount: str = typer.Argument(...),
                  expires: str = typer.Option(None, "--expires", help="Date (local midnight, exclusive) or time."),
                  effective: str = typer.Option(None, "--effective", help="Usable from (default: now)."),
                  priority: int = typer.Option(0, "--priority", help="Lower burns first."),
                  reason: str = typer.Option("", "--reason"), json_out: bool = _JSON) -> None:
    """Grant prepaid credit in the customer's currency."""
    billing = _billing(ctx)
    tz = billing.customers.get(customer).timezone
    grant = billing.grant_credits(customer, amount, priority, _moment(expires, tz, "--expires"),
                                  _moment(effective, tz, "--effective"), reason)
    report(ctx, [grant.as_dict(billing.clock())], json_flag=json_out, title="credit grant")


@_command(credits_app, "balance")
def credits_balance(ctx: typer.Context, customer: str = typer.Argument(...), json_out: bool = _JSON) -> None:
    """Real-time balance: grants − finalized burns − what open drafts burn now; expired remainder shown."""
    out = _billing(ctx).credit_balance(customer)
    if want_json(ctx, json_out):
        print_json(out)
        return
    console.print(f"[b]{escape(out['customer'])}[/b] balance {out['balance']} {out['currency']} "
                  f"(pending usage {out['pending_usage']}, expired {out['expired']})")
    report(ctx, out["grants"], title="grants")


# -- invoices -----------------------------------------------------------------------------------
def _print_invoice(ctx: typer.Context, doc: dict[str, Any], json_out: bool,
                   extras: dict[str, Any] | None = None) -> None:
    if want_json(ctx, json_out):
        print_json(doc)
        return
    console.print(f"[b]{escape(doc['number'] or 'DRAFT')}[/b] {escape(doc['customer'])} "
                  f"{doc['period']['start']} → {doc['period']['end']} {escape('[' + doc['status'] + ']')}")
    report(ctx, doc["lines"], columns=("charge", "description", "quantity", "unit_price", "amount"))
    _print_totals(doc)
    extra = extras or {}
    for note in extra.get("credit_notes", []):
        console.print(f"credit note {escape(note['number'])}: −{note['amount']} {doc['currency']} "
                      f"({escape(note['reason'])})")
    if extra.get("void_reason"):
        console.print(f"void: {escape(str(extra['void_reason']))}")
    _print_warnings(doc.get("warnings", []))


def _print_totals(doc: dict[str, Any], suffix: str = "") -> None:
    console.print(f"subtotal {doc['subtotal']}  credits applied −{doc['credits_applied']}  "
                  f"[b]total {doc['total']} {doc['currency']}[/b]{escape(suffix)}")


def _print_warnings(warnings: list[dict[str, Any]]) -> None:
    for w in warnings:
        console.print(f"[yellow]warning[/yellow]: {escape(w['message'])}")


@_command(invoices_app, "preview")
def invoices_preview(ctx: typer.Context, customer: str = typer.Argument(...), period: str = _PERIOD,
                     json_out: bool = _JSON) -> None:
    """The draft invoice, recomputed from the ledger (identical on re-run with the same data)."""
    _print_invoice(ctx, _billing(ctx).preview(customer, period), json_out)


@_command(invoices_app, "finalize")
def invoices_finalize(ctx: typer.Context, customer: str = typer.Argument(...), period: str = _PERIOD,
                      early: bool = typer.Option(False, "--early", help="Allow before the period ends."),
                      json_out: bool = _JSON) -> None:
    """Number and freeze the period's invoice."""
    _print_invoice(ctx, _billing(ctx).finalize(customer, period, early), json_out)


@_command(invoices_app, "void")
def invoices_void(ctx: typer.Context, number: str = typer.Argument(...),
                  reason: str = typer.Option("", "--reason"), json_out: bool = _JSON) -> None:
    """Mark a finalized invoice void (its period can then be invoiced again)."""
    _print_invoice(ctx, _billing(ctx).void(number, reason), json_out)


@_command(invoices_app, "credit-note")
def invoices_credit_note(ctx: typer.Context, invoice: str = typer.Argument(...),
                         amount: str = typer.Option(..., "--amount"), reason: str = typer.Option(..., "--reason"),
                         json_out: bool = _JSON) -> None:
    """Issue a credit note against a finalized invoice."""
    report(ctx, [_billing(ctx).credit_note(invoice, amount, reason)], json_flag=json_out, title="credit note")


@_command(invoices_app, "show")
def invoices_show(ctx: typer.Context, number: str = typer.Argument(...),
                  html: Path = typer.Option(None, "--html", help="Write printable HTML here."),
                  csv: Path = typer.Option(None, "--csv", help="Write CSV here ('-' for stdout)."),
                  pdf: Path = typer.Option(None, "--pdf", help="Write a PDF (needs WeasyPrint)."),
                  json_out: bool = _JSON) -> None:
    """Show a finalized invoice, or render it to HTML / CSV / PDF."""
    from workmeter.billing.render import invoice_csv, invoice_html, write_pdf

    billing = _billing(ctx)
    doc = billing.show(number)
    if html or pdf:
        page = invoice_html(doc, billing.show_extras(number))
        if html:
            html.write_text(page, encoding="utf-8")
        if pdf:
            write_pdf(page, pdf)
    if csv:
        text = invoice_csv(doc)
        if str(csv) == "-":
            typer.echo(text, nl=False)
        else:
            csv.write_text(text, encoding="utf-8")
    if not (html or csv or pdf):
        _print_invoice(ctx, doc, json_out, None if want_json(ctx, json_out) else billing.show_extras(number))


@_command(invoices_app, "list")
def invoices_list(ctx: typer.Context, customer: str = typer.Option(None, "--customer"),
                  period: str = typer.Option(None, "--period"), json_out: bool = _JSON) -> None:
    """Finalized and void invoices, in number order."""
    report(ctx, _billing(ctx).list_invoices(customer, period), json_flag=json_out, title="invoices")


@_command(invoices_app, "run")
def invoices_run(ctx: typer.Context, period: str = _PERIOD,
                 finalize: bool = typer.Option(False, "--finalize", help="Finalize every draft."),
                 thresholds: bool = typer.Option(False, "--thresholds", help="Only issue interim invoices "
                                                 "where unbilled usage reached the plan's threshold now."),
                 json_out: bool = _JSON) -> None:
    """Draft every subscribed customer's invoice in one set-based pass."""
    billing = _billing(ctx)
    docs = billing.check_thresholds() if thresholds else billing.run(period, finalize)
    if want_json(ctx, json_out):
        print_json(docs)
        return
    rows = [{"number": d["number"], "customer": d["customer"], "status": d["status"], "subtotal": d["subtotal"],
             "credits_applied": d["credits_applied"], "total": d["total"], "currency": d["currency"],
             "warnings": len(d["warnings"])} for d in docs]
    report(ctx, rows, title=f"invoices {period}")


def statement(ctx: typer.Context, customer: str = typer.Argument(...), period: str = _PERIOD,
              json_out: bool = _JSON) -> None:
    """Usage per model and bucket, and what each invoice line is made of."""
    out = _billing(ctx).statement(customer, period)
    if want_json(ctx, json_out):
        print_json(out)
        return
    invoiced = f"invoice {out['invoice']} ({out['status']})" if out["invoice"] else "draft, not invoiced yet"
    console.print(f"[b]statement {escape(out['customer'])} {period}[/b] · {escape(invoiced)} · "
                  f"{out['period']['start']} → {out['period']['end']}")
    rows = [{"provider": m["provider"], "model": m["model"], "bucket": b["bucket"], "quantity": b["quantity"],
             "cost": "unpriced" if b["cost"] is None else b["cost"], "unpriced quantity": b["unpriced_quantity"]}
            for m in out["models"] for b in m["buckets"]]
    report(ctx, rows, title=f"usage (rated cost {out['usage_totals']['cost']} {out['currency']})")
    report(ctx, out["lines"], columns=("charge", "description", "quantity", "unit_price", "amount"), title="lines")
    _print_totals(out, f" ({out['usage_totals']['events']} calls, {out['usage_totals']['unpriced_events']} unpriced)")
    _print_warnings(out["warnings"])
