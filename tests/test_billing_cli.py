"""The billing command line end to end, on a copy of the synced template database."""

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
    path = tmp_path / "cli.duckdb"
    shutil.copy(template, path)
    with Workmeter.open(path) as wm:
        wm.ledger.ingest([usage("acme", t, **b) for t, b in PARIS_OCTOBER])
    return path


def run(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output + result.stderr
    return orjson.loads(result.stdout) if "--json" in args else result


def test_a_month_of_billing_from_the_command_line(db: Path, tmp_path: Path) -> None:
    (tmp_path / "pro.toml").write_text(plan("pro", FEE_AND_MARKUP))
    run(db, "customers", "add", "acme", "--name", "Acme SAS", "--timezone", "Europe/Paris")
    assert run(db, "plans", "apply", str(tmp_path / "pro.toml"), "--json")[0]["status"] == "created"
    assert run(db, "plans", "apply", str(tmp_path / "pro.toml"), "--json")[0]["status"] == "unchanged"
    run(db, "subscribe", "acme", "pro", "--start", "2026-10-01")
    preview = run(db, "invoices", "preview", "acme", "--period", "2026-10", "--json")
    assert (preview["status"], preview["total"]) == ("draft", "106.80")
    meter = run(db, "meters", "query", "input_tokens", "--by", "customer,day", "--from", "2026-10", "--to", "2026-11",
                "--tz", "Europe/Paris", "--json")
    assert meter == [{"customer": "acme", "day": "2026-10-01", "value": "0", "events": 1},
                     {"customer": "acme", "day": "2026-10-03", "value": "1000000", "events": 1},
                     {"customer": "acme", "day": "2026-10-31", "value": "500000", "events": 1}]
    run(db, "credits", "grant", "acme", "6.80", "--expires", "2027-01-01")
    assert run(db, "credits", "balance", "acme", "--json")["currency"] == "USD"
    final = run(db, "invoices", "finalize", "acme", "--period", "2026-10", "--early", "--json")
    assert (final["number"], final["credits_applied"], final["total"]) == ("WM-000001", "6.80", "100.00")
    html = tmp_path / "inv.html"
    csv_out = run(db, "invoices", "show", "WM-000001", "--html", str(html), "--csv", "-")
    assert csv_out.stdout.splitlines()[0].startswith("number,customer,period_start")
    assert "Invoice WM-000001" in html.read_text()
    statement = run(db, "statement", "acme", "--period", "2026-10", "--json")
    assert statement["invoice"] == "WM-000001" and statement["usage_totals"]["cost"] == "6.5"
    note = run(db, "invoices", "credit-note", "WM-000001", "--amount", "10", "--reason", "goodwill", "--json")
    assert note[0]["number"] == "WM-CN-000001"
    assert run(db, "invoices", "void", "WM-000001", "--reason", "test", "--json")["status"] == "void"
    assert [i["status"] for i in run(db, "invoices", "list", "--json")] == ["void"]
    assert [d["customer"] for d in run(db, "invoices", "run", "--period", "2026-10", "--json")] == ["acme"]
    assert run(db, "subscriptions", "list", "--json")[0]["plan"] == "pro"


def test_errors_name_the_file_line_and_field(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(plan("pro", FEE_AND_MARKUP.replace('type = "flat"', 'type = "flatt"')))
    result = CliRunner().invoke(cli, ["--db", str(db), "plans", "apply", str(bad)])
    assert result.exit_code == 2  # invalid input (a plan file error) is a usage error
    squeeze = "".join  # Rich wraps long lines (even inside a long path): compare without whitespace
    expected = f"{bad}:8: charge 'platform_fee': field 'type': unknown charge type 'flatt'"
    assert squeeze(expected.split()) in squeeze(result.stderr.split())
    result = CliRunner().invoke(cli, ["--db", str(db), "invoices", "preview", "nobody", "--period", "2026-10"])
    assert result.exit_code == 4 and "no customer 'nobody'" in result.stderr
