"""Changing billing data after the fact: editing a customer, ending a subscription — CLI and HTTP.

Prices and the plan are those of :mod:`test_invoice_scenarios` (input $2, output
$10 per million; a $99 flat fee in advance and a 20% markup on rated cost).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from api_support import ACME, GLOBEX, ThreadServer, served_world
from test_invoice_scenarios import (
    FEE_AND_MARKUP,
    apply,
    ingest,
    make_template,
    open_copy,
    paris_customer,
    plan,
    usage,
)
from workmeter.app import Workmeter
from workmeter.interfaces.cli.main import app as cli


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory)


@pytest.fixture
def app(template: Path, tmp_path: Path) -> Iterator[Workmeter]:
    yield from open_copy(template, tmp_path)


def run(app: Workmeter, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(app.db.path), *args])
    assert result.exit_code == code, result.output + result.stderr
    return orjson.loads(result.stdout) if "--json" in args and code == 0 else " ".join(result.stderr.split())


def test_edit_name_timezone_and_issuer_then_bill_in_them(app: Workmeter, tmp_path: Path) -> None:
    app.billing.add_customer("acme", "Acme", "USD", "UTC")
    edited = run(app, "customers", "edit", "acme", "--name", "Acme SAS", "--timezone", "Europe/Paris",
                 "--issuer", "EU", "--json")
    assert edited == [{"id": "acme", "name": "Acme SAS", "currency": "USD", "timezone": "Europe/Paris",
                       "issuer": "EU"}]
    assert run(app, "customers", "list", "--json") == edited
    apply(app, tmp_path, plan("pro", FEE_AND_MARKUP))
    app.billing.subscribe("acme", "pro", date(2026, 9, 1))
    invoice = app.billing.finalize("acme", "2026-10")
    assert invoice["number"] == "EU-000001"  # the new issuer's sequence
    assert invoice["period"]["start"] == "2026-10-01T00:00:00+02:00"  # October in Paris


def test_timezone_cannot_move_finalized_periods_but_the_name_can_change(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    number = app.billing.finalize("acme", "2026-10")["number"]
    refused = run(app, "customers", "edit", "acme", "--timezone", "UTC", code=1)
    assert "[conflict]" in refused and number in refused and "cannot change" in refused
    assert run(app, "customers", "edit", "acme", "--name", "Acme Europe", "--json")[0]["timezone"] == "Europe/Paris"
    app.billing.void(number, "wrong timezone")
    assert run(app, "customers", "edit", "acme", "--timezone", "UTC", "--json")[0]["timezone"] == "UTC"
    assert app.billing.preview("acme", "2026-10")["period"]["start"] == "2026-10-01T00:00:00+00:00"


def test_currency_changes_only_while_nothing_is_billed_in_it(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    refused = run(app, "customers", "edit", "acme", "--currency", "EUR", code=1)
    assert "acme already has subscriptions in USD" in refused
    app.billing.add_customer("newco")
    assert run(app, "customers", "edit", "newco", "--currency", "eur", "--json")[0]["currency"] == "EUR"


@pytest.mark.parametrize(("args", "code", "says"), [
    (("customers", "edit", "acme"), 2, "nothing to change"),
    (("customers", "edit", "nobody", "--name", "X"), 4, "no customer 'nobody'"),
    (("customers", "edit", "acme", "--timezone", "Mars/Olympus"), 2, "unknown timezone 'Mars/Olympus'"),
    (("customers", "edit", "acme", "--currency", "dollars"), 2, "is not an ISO 4217 code"),
    (("customers", "edit", "acme", "--name", " "), 2, "name must not be empty"),
])
def test_edit_mistakes_are_errors(app: Workmeter, args: tuple[str, ...], code: int, says: str) -> None:
    app.billing.add_customer("acme")
    assert says in run(app, *args, code=code)
    assert app.billing.customers.get("acme").name == "acme"  # unchanged


def test_subscriptions_end_stops_billing_from_that_day(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    spans = run(app, "subscriptions", "end", "acme", "--end", "2026-10-16", "--json")
    assert spans == [{"customer": "acme", "plan": "pro", "version": 1, "start": "2026-09-01", "end": "2026-10-16"}]
    doc = app.billing.preview("acme", "2026-10")
    # flat fee for Oct 1–15: 99 × 15/31 = 47.903… → 47.90; usage before Oct 16 (Paris): 3 + 2.5 = 5.5 × 1.2 = 6.60
    assert [ln["amount"] for ln in doc["lines"]] == ["47.90", "6.60"] and doc["total"] == "54.50"
    ingest(app, [usage("acme", "2026-11-05T12:00:00Z", output=1_000_000)])
    november = app.billing.preview("acme", "2026-11")
    assert november["lines"] == [] and november["warnings"][0]["code"] == "no_subscription"
    again = run(app, "subscriptions", "end", "acme", "--end", "2026-11-01", code=1)
    assert "acme is on no plan on 2026-11-01: nothing to end" in again
    assert "no customer 'nobody'" in run(app, "subscriptions", "end", "nobody", "--end", "2026-11-01", code=4)
    assert "is not a date" in run(app, "subscriptions", "end", "acme", "--end", "soon", code=2)


# -- over HTTP ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[tuple[ThreadServer, dict[str, str]]]:
    with served_world(tmp_path_factory.mktemp("api-edit"), template, ()) as (server, keys, _):
        yield server, keys


def test_patch_customer_changes_what_may_change(world: tuple[ThreadServer, dict[str, str]]) -> None:
    server, keys = world
    url = f"/api/v1/customers/{GLOBEX}"
    with server.client(keys["admin"]) as c:
        renamed = c.patch(url, json={"name": "Globex Corp", "issuer": "GX", "timezone": None})
        shown = c.get(url).json()
        same = c.patch(url, json={})
        timezone = c.patch(url, json={"timezone": "Asia/Tokyo"})  # its October invoice is finalized
        currency = c.patch(url, json={"currency": "EUR"})
        bad = c.patch(url, json={"timezone": "Mars/Olympus"})
        missing = c.patch("/api/v1/customers/nobody", json={"name": "X"})
    with server.client(keys["read"]) as c:
        forbidden = c.patch(f"/api/v1/customers/{ACME}", json={"name": "Hacked"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == shown == {"id": GLOBEX, "name": "Globex Corp", "currency": "USD", "timezone": "UTC",
                                       "issuer": "GX"}
    assert same.status_code == 200 and same.json() == shown
    assert (timezone.status_code, timezone.json()["error"]["code"]) == (409, "conflict")
    assert "WM-000002" in timezone.json()["error"]["message"]
    assert currency.status_code == 409 and bad.status_code == 400 and missing.status_code == 404
    assert forbidden.status_code == 403
    assert server.wm.billing.customers.get(ACME).name == "Cus_Acme"


def test_end_answers_409_when_no_plan_runs_that_day(world: tuple[ThreadServer, dict[str, str]]) -> None:
    server, keys = world
    with server.client(keys["admin"]) as c:
        before = c.post("/api/v1/subscriptions/end", json={"customer": ACME, "end": "2026-08-01"})
    assert before.status_code == 409 and "nothing to end" in before.json()["error"]["message"]


def test_a_rename_never_changes_a_finalized_invoice(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    number = app.billing.finalize("acme", "2026-10")["number"]
    run(app, "customers", "edit", "acme", "--name", "Acme Europe")
    assert app.billing.show(number)["customer_name"] == "Acme SAS"
    assert app.billing.show_extras(number)["customer_name"] == "Acme SAS"
    out = tmp_path / "invoice.html"
    run(app, "invoices", "show", number, "--html", str(out))
    assert "Acme SAS" in out.read_text() and "Acme Europe" not in out.read_text()
