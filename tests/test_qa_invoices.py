"""After finalization: what preview, run and the statement say about an invoiced period (frozen clock)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from test_invoice_scenarios import ingest, make_template, open_copy, paris_customer, usage
from workmeter.app import Workmeter


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory)


@pytest.fixture
def app(template: Path, tmp_path: Path) -> Iterator[Workmeter]:
    yield from open_copy(template, tmp_path)


def test_run_lists_an_invoiced_customer_with_its_invoice_not_a_draft(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    october = app.billing.finalize("acme", "2026-10")
    [listed] = app.billing.run("2026-10")
    assert (listed["number"], listed["status"], listed["total"]) == (october["number"], "finalized", "106.80")
    [again] = app.billing.run("2026-10", finalize=True)  # nothing new to finalize, nothing hidden
    assert again == app.billing.show(october["number"])


def test_preview_of_an_invoiced_period_names_the_invoice(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    assert all(w["code"] != "finalized" for w in app.billing.preview("acme", "2026-10")["warnings"])
    number = app.billing.finalize("acme", "2026-10")["number"]
    ingest(app, [usage("acme", "2026-10-15T00:00:00Z", output=100_000)])  # late: +1.00 cost → +1.20
    doc = app.billing.preview("acme", "2026-10")
    assert doc["total"] == "108.00" and doc["status"] == "draft"
    [warning] = [w for w in doc["warnings"] if w["code"] == "finalized"]
    assert warning["invoice"] == number and "adjustment" in warning["message"]
    assert app.billing.preview("acme", "2026-10") == doc  # still stable on re-run


def test_statement_flags_usage_that_changed_after_its_invoice(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    number = app.billing.finalize("acme", "2026-10")["number"]
    assert app.billing.statement("acme", "2026-10")["warnings"] == []
    ingest(app, [usage("acme", "2026-10-15T00:00:00Z", output=100_000)])
    statement = app.billing.statement("acme", "2026-10")
    assert statement["total"] == "106.80" and statement["usage_totals"]["cost"] == "7.5"  # 6.5 + 1.00 late
    [warning] = statement["warnings"]
    assert (warning["code"], warning["invoice"]) == ("usage_changed", number)
    assert (warning["invoiced_subtotal"], warning["recomputed_subtotal"]) == ("106.80", "108.00")


def test_invoice_page_names_the_customer_and_the_billed_days(app: Workmeter, tmp_path: Path) -> None:
    from workmeter.billing.render import invoice_html

    paris_customer(app, tmp_path)  # Acme SAS, Europe/Paris: October is +02:00 then +01:00
    number = app.billing.finalize("acme", "2026-10")["number"]
    page = invoice_html(app.billing.show(number), app.billing.show_extras(number))
    assert "Customer <b>Acme SAS</b> (acme)" in page
    assert "1 Oct 2026 – 31 Oct 2026" in page


def test_preview_without_a_subscription_says_why_it_is_empty(app: Workmeter) -> None:
    app.billing.add_customer("idle", "Idle Ltd", "USD", "UTC")
    doc = app.billing.preview("idle", "2026-10")
    assert (doc["lines"], doc["total"]) == ([], "0.00")
    assert [w["code"] for w in doc["warnings"]] == ["no_subscription"]
