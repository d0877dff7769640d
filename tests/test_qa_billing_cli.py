"""The billing command line as a provider reads it: status, credit notes, credits and totals on screen."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from test_invoice_scenarios import FEE_AND_MARKUP, PARIS_OCTOBER, make_template, plan, usage
from workmeter.app import Workmeter
from workmeter.interfaces.cli.main import app as cli


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory)


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    """acme (Europe/Paris) on pro (fee 99 + tokens at cost + 20%) with October usage."""
    path = tmp_path / "cli.duckdb"
    shutil.copy(template, path)
    (tmp_path / "pro.toml").write_text(plan("pro", FEE_AND_MARKUP))
    with Workmeter.open(path) as wm:
        wm.ledger.ingest([usage("acme", t, **b) for t, b in PARIS_OCTOBER])
        wm.billing.add_customer("acme", "Acme SAS", "USD", "Europe/Paris")
        wm.billing.apply_plans([tmp_path / "pro.toml"])
    return path


def run(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output + result.stderr
    return orjson.loads(result.stdout) if "--json" in args else result.stdout


def test_invoice_status_shows_on_screen_and_credit_notes_are_listed(db: Path) -> None:
    run(db, "subscribe", "acme", "pro", "--start", "2026-10-01")
    assert "[draft]" in run(db, "invoices", "preview", "acme", "--period", "2026-10")
    assert "[finalized]" in run(db, "invoices", "finalize", "acme", "--period", "2026-10", "--early")
    run(db, "invoices", "credit-note", "WM-000001", "--amount", "6.80", "--reason", "goodwill [Q4]")
    shown = run(db, "invoices", "show", "WM-000001")
    assert "[finalized]" in shown
    assert "credit note WM-CN-000001: −6.80 USD (goodwill [Q4])" in shown
    run(db, "invoices", "void", "WM-000001", "--reason", "wrong plan")
    shown = run(db, "invoices", "show", "WM-000001")
    assert "[void]" in shown and "void: wrong plan" in shown


def test_the_statement_tells_the_customer_how_the_total_comes_about(db: Path) -> None:
    run(db, "subscribe", "acme", "pro", "--start", "2026-10-01")
    run(db, "credits", "grant", "acme", "6.80", "--effective", "2026-10-01")
    text = run(db, "statement", "acme", "--period", "2026-10")
    assert "statement acme 2026-10" in text and "draft, not invoiced yet" in text
    assert "subtotal 106.80  credits applied −6.80  total 100.00 USD" in text  # credits explain the total
    run(db, "invoices", "finalize", "acme", "--period", "2026-10", "--early")
    assert "invoice WM-000001 (finalized)" in run(db, "statement", "acme", "--period", "2026-10")


def test_adding_a_customer_again_with_other_settings_names_the_differences(db: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), "customers", "add", "acme", "--timezone", "UTC"])
    assert result.exit_code == 1
    assert result.stderr == ("error [conflict] (acme): customer 'acme' already exists with name 'Acme SAS' "
                             "(given 'acme'), timezone 'Europe/Paris' (given 'UTC')\n")
