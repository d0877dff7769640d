"""Billing changes after the fact: ``customers edit`` and ``subscriptions end``.

The rules (what may change, when) live in :mod:`workmeter.billing.service`;
these commands parse options, call it and print the result.
"""

from __future__ import annotations

import typer

from workmeter.core.errors import InvalidInput
from workmeter.core.timeutil import parse_day
from workmeter.interfaces.cli.billing import _JSON, _billing, _command, customers_app, subs_app
from workmeter.interfaces.cli.common import console, report, want_json


@_command(customers_app, "edit")
def customers_edit(ctx: typer.Context, customer_id: str = typer.Argument(..., metavar="ID"),
                   name: str = typer.Option(None, "--name"),
                   currency: str = typer.Option(None, "--currency",
                                                help="Only while the customer has no subscription, grant or invoice."),
                   timezone: str = typer.Option(None, "--timezone",
                                                help="IANA name; only while no invoice of theirs is finalized."),
                   issuer: str = typer.Option(None, "--issuer", help="Numbers the invoices finalized from now on."),
                   json_out: bool = _JSON) -> None:
    """Change a customer's name, currency, timezone or invoice issuer."""
    if name is None and currency is None and timezone is None and issuer is None:
        raise InvalidInput("nothing to change: give --name, --currency, --timezone or --issuer",
                           where="customers edit")
    customer = _billing(ctx).update_customer(customer_id, name=name, currency=currency, timezone=timezone,
                                             issuer=issuer)
    report(ctx, [customer.as_dict()], json_flag=json_out, title="customer")


@_command(subs_app, "end")
def subscriptions_end(ctx: typer.Context, customer: str = typer.Argument(...),
                      end: str = typer.Option(..., "--end", help="Local date service stops (exclusive), "
                                                                 "YYYY-MM-DD."),
                      json_out: bool = _JSON) -> None:
    """End a customer's service from a date: nothing is billed from that day on; shows their plan spans."""
    billing = _billing(ctx)
    billing.unsubscribe(customer, parse_day(end, "--end"))
    spans = billing.list_subscriptions(customer)
    if not want_json(ctx, json_out):
        console.print(f"{customer}: service ends {end} (local date, exclusive)")
    report(ctx, spans, json_flag=json_out, title="subscriptions")


def register(app: typer.Typer) -> None:
    """Nothing to add at the top level: the commands above join ``customers`` and ``subscriptions``."""
