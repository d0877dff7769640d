"""Invoices after the draft: finalize, numbering, void, credit notes, late events, credits, migration.

Same test model as the scenarios (``acme-ai/unit-1``: input $2, output $10 per
million); the Paris customer's October costs 6.50, so its invoice is
99.00 + 6.50 × 1.2 = 106.80.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from test_invoice_scenarios import (
    FEE_AND_MARKUP,
    Clock,
    apply,
    ingest,
    make_template,
    open_copy,
    paris_customer,
    plan,
    usage,
)
from workmeter.app import Workmeter
from workmeter.billing.render import invoice_csv, invoice_html
from workmeter.core.errors import Conflict, InvalidInput


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory)


@pytest.fixture
def app(template: Path, tmp_path: Path) -> Iterator[Workmeter]:
    yield from open_copy(template, tmp_path)


def clock(app: Workmeter) -> Clock:
    c = app.billing.clock
    assert isinstance(c, Clock)
    return c


def test_finalize_numbers_sequentially_per_issuer_and_freezes(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    app.billing.add_customer("eu1", currency="USD", timezone="UTC", issuer="EU")
    app.billing.subscribe("eu1", "pro", date(2026, 10, 1))
    doc = app.billing.finalize("acme", "2026-10")
    assert (doc["number"], doc["status"], doc["total"]) == ("WM-000001", "finalized", "106.80")
    assert app.billing.finalize("eu1", "2026-10")["number"] == "EU-000001"
    with pytest.raises(Conflict, match="already finalized as WM-000001"):
        app.billing.finalize("acme", "2026-10")
    ingest(app, [usage("acme", "2026-10-15T00:00:00Z", output=1_000_000)])  # late: +10 cost
    assert app.billing.show("WM-000001") == doc  # a finalized invoice never changes
    head = app.billing.show_extras("WM-000001")
    assert head["plan_versions"] == [{"plan": "pro", "version": 1, "from": "2026-10-01", "to": "2026-11-01"}]
    assert head["catalog_versions"] and head["catalog_versions"][0].startswith("genai-prices-")


def test_a_period_cannot_be_finalized_before_it_ends_unless_early(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    clock(app).now = datetime(2026, 10, 31, 22, 59, tzinfo=UTC)  # 23:59 in Paris
    with pytest.raises(Conflict, match="ends 2026-11-01T00:00:00\\+01:00"):
        app.billing.finalize("acme", "2026-10")
    assert app.billing.finalize("acme", "2026-10", early=True)["number"] == "WM-000001"


def test_void_keeps_the_invoice_and_frees_the_period(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    app.billing.finalize("acme", "2026-10")
    voided = app.billing.void("WM-000001", "wrong plan")
    assert voided["status"] == "void" and voided["total"] == "106.80"
    with pytest.raises(Conflict, match="already void"):
        app.billing.void("WM-000001")
    again = app.billing.finalize("acme", "2026-10")
    assert again["number"] == "WM-000002"
    assert [(i["number"], i["status"]) for i in app.billing.list_invoices("acme")] == [
        ("WM-000001", "void"), ("WM-000002", "finalized")]


def test_credit_notes_never_exceed_what_the_invoice_asked_for(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    app.billing.finalize("acme", "2026-10")
    note = app.billing.credit_note("WM-000001", "6.80", "goodwill")
    assert (note["number"], note["amount"], note["invoice"]) == ("WM-CN-000001", "6.80", "WM-000001")
    with pytest.raises(Conflict, match=r"at most 100\.00 left"):
        app.billing.credit_note("WM-000001", "100.01", "too much")
    with pytest.raises(InvalidInput):
        app.billing.credit_note("WM-000001", "1.005", "sub-cent")
    assert app.billing.credit_note("WM-000001", "100", "rest")["number"] == "WM-CN-000002"
    assert app.billing.show("WM-000001")["total"] == "106.80"  # the invoice itself is unchanged
    app.billing.void("WM-000001")
    with pytest.raises(Conflict, match="void"):
        app.billing.credit_note("WM-000001", "1", "after void")


def test_late_events_become_adjustment_lines_on_the_next_invoice(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    october = app.billing.finalize("acme", "2026-10")
    late = usage("acme", "2026-10-15T00:00:00Z", output=100_000)  # +1.00 cost in October → +1.20
    ingest(app, [late])
    november = app.billing.preview("acme", "2026-11")
    # November: fee 99 + 9M input (Nov 1 00:30 Paris) = 18.00 × 1.2 = 21.60; October adjustment +1.20
    assert [(ln["charge"], ln["amount"]) for ln in november["lines"]] == [
        ("platform_fee", "99.00"), ("tokens", "21.60"), ("tokens", "1.20")]
    assert november["lines"][2]["description"].startswith("Adjustment to 2026-10: tokens")
    assert november["total"] == "121.80"
    clock(app).now = datetime(2026, 12, 2, tzinfo=UTC)
    app.billing.finalize("acme", "2026-11")
    assert app.billing.preview("acme", "2026-12")["total"] == "99.00"  # adjusted once, not again
    app.ledger.void("test", late["id"], "duplicate upload")  # a correction after both invoices
    december = app.billing.preview("acme", "2026-12")
    assert [ln["amount"] for ln in december["lines"]] == ["99.00", "0.00", "-1.20"]
    assert app.billing.show(october["number"]) == october


def test_credits_burn_by_priority_then_expiry_and_report_expired(app: Workmeter, tmp_path: Path) -> None:
    app.billing.add_customer("acme", "Acme SAS", "USD", "Europe/Paris")
    apply(app, tmp_path, plan("pro", FEE_AND_MARKUP))
    app.billing.subscribe("acme", "pro", date(2026, 10, 1))
    ingest(app, [usage("acme", t, **b) for t, b in (
        ("2026-10-03T10:00:00Z", {"input": 1_000_000, "output": 100_000}), ("2026-10-31T22:30:00Z", {"input": 500_000}),
        ("2026-09-30T22:30:00Z", {"output": 250_000}), ("2026-10-31T23:30:00Z", {"input": 9_000_000}))])
    clock(app).now = datetime(2026, 10, 15, tzinfo=UTC)
    grant = app.billing.grant_credits
    grant("acme", "500", priority=1, reason="A")
    grant("acme", "30", expires=date(2026, 10, 20), reason="B")
    grant("acme", "40", effective=date(2026, 9, 1), expires=date(2026, 10, 1), reason="C: gone before October")
    grant("acme", "25", expires=date(2026, 12, 1), reason="D")
    balance = app.billing.credit_balance("acme")
    # October so far: 106.80 pending, burnt B 30, D 25 (priority 0, soonest expiry first), then A 51.80
    assert (balance["balance"], balance["pending_usage"], balance["expired"]) == ("448.20", "106.80", "40.00")
    clock(app).now = datetime(2026, 11, 2, tzinfo=UTC)
    doc = app.billing.finalize("acme", "2026-10")
    assert (doc["subtotal"], doc["credits_applied"], doc["total"]) == ("106.80", "106.80", "0.00")
    balance = app.billing.credit_balance("acme")
    # November draft: 99 + 18.00 × 1.2 = 120.60 pending, from A (B expired, D spent): 448.20 − 120.60
    assert (balance["balance"], balance["pending_usage"], balance["expired"]) == ("327.60", "120.60", "40.00")
    status = {g["reason"][0]: (g["status"], g["remaining"]) for g in balance["grants"]}
    assert status == {"A": ("active", "327.60"), "B": ("exhausted", "0.00"), "C": ("expired", "40.00"),
                      "D": ("exhausted", "0.00")}
    app.billing.void(doc["number"])  # burns released: October is open again and burns the same grants
    assert app.billing.credit_balance("acme")["balance"] == "327.60"
    with pytest.raises(InvalidInput):
        grant("acme", "1.001")


def test_plan_versions_and_migration(app: Workmeter, tmp_path: Path) -> None:
    app.billing.add_customer("acme", currency="USD", timezone="Europe/Paris")
    app.billing.add_customer("euro", currency="EUR")
    v1 = plan("pro", '[[charge]]\nkey = "fee"\ntype = "flat"\namount = "99.00"\n')
    apply(app, tmp_path, v1)
    apply(app, tmp_path, v1.replace('"99.00"', '"99.00"  # same content'))
    assert [(p["plan"], p["version"]) for p in app.billing.plans.all()] == [("pro", 1)]
    app.billing.subscribe("acme", "pro", date(2026, 10, 1))
    apply(app, tmp_path, v1.replace("99.00", "120.00"))
    assert [p["version"] for p in app.billing.plans.all()] == [1, 2]
    assert app.billing.preview("acme", "2026-10")["total"] == "99.00"  # stays on v1 until migrated
    clock(app).now = datetime(2026, 10, 20, tzinfo=UTC)
    moved = app.billing.migrate("pro")
    assert moved == [{"customer": "acme", "plan": "pro", "from_version": 1, "to_version": 2,
                      "effective": "2026-11-01"}]
    assert app.billing.migrate("pro") == []
    assert app.billing.preview("acme", "2026-10")["total"] == "99.00"
    assert app.billing.preview("acme", "2026-11")["total"] == "120.00"
    assert [(s["version"], s["start"], s["end"]) for s in app.billing.list_subscriptions("acme")] == [
        (1, "2026-10-01", "2026-11-01"), (2, "2026-11-01", None)]
    with pytest.raises(Conflict, match="bills in USD"):
        app.billing.subscribe("euro", "pro", date(2026, 10, 1))


def test_rendering_escapes_html_and_csv_adds_up(app: Workmeter, tmp_path: Path) -> None:
    charges = FEE_AND_MARKUP.replace('key = "platform_fee"', 'key = "platform_fee"\nname = "Fee <script>x</script> & co"')
    paris_customer(app, tmp_path, charges)
    app.billing.finalize("acme", "2026-10")
    app.billing.credit_note("WM-000001", "6.80", "goodwill <b>")
    doc = app.billing.show("WM-000001")
    page = invoice_html(doc, app.billing.show_extras("WM-000001"))
    assert "<script>" not in page and "Fee &lt;script&gt;x&lt;/script&gt; &amp; co" in page
    assert "goodwill &lt;b&gt;" in page and "WM-CN-000001" in page and ">106.80<" in page
    rows = list(csv.DictReader(io.StringIO(invoice_csv(doc))))
    assert [r["charge"] for r in rows] == ["platform_fee", "tokens", "subtotal", "credits_applied", "total"]
    assert sum(Decimal(r["amount"]) for r in rows[:2]) == Decimal(rows[-1]["amount"]) == Decimal("106.80")


def test_adjustments_reconcile_to_the_cent_without_rounding_drift(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    app.billing.finalize("acme", "2026-10")                     # tokens line: 7.80
    ingest(app, [usage("acme", "2026-10-15T00:00:00Z", output=300)])   # +0.003 cost → +0.0036 billed
    clock(app).now = datetime(2026, 12, 2, tzinfo=UTC)
    november = app.billing.finalize("acme", "2026-11")
    adjust = [ln["amount"] for ln in november["lines"] if ln["description"].startswith("Adjustment")]
    assert adjust == []                                          # 7.8036 still rounds to 7.80
    ingest(app, [usage("acme", "2026-10-16T00:00:00Z", output=300)])
    december = app.billing.preview("acme", "2026-12")
    adjust = [ln["amount"] for ln in december["lines"] if ln["description"].startswith("Adjustment")]
    assert adjust == ["0.01"]                                    # 7.8072 rounds to 7.81: 7.80 + 0.01
