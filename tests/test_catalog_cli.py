"""The pricing commands end to end: sync, show, check, versions, rerate, runs, unpriced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from test_rating_view import insert
from workmeter.app import Workmeter
from workmeter.interfaces.cli.main import app as cli


def run(db: Path, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == code, result.output + result.stderr
    return orjson.loads(result.stdout) if "--json" in args else result


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.duckdb"
    with Workmeter.open(path) as wm:
        insert(wm, [(1, "acme", "2025-03-01T00:00:00Z", "anthropic", "claude-3-7-sonnet-20250219", None,
                     1000, 0, 0, 0, 100, 0, 0),
                    (2, "acme", "2025-03-01T00:00:00Z", "openai", "gpt-nope", None, 1, 0, 0, 0, 1, 0, 0),
                    (3, "beta", "2025-03-02T00:00:00Z", "openai", "gpt-nope", None, 1, 0, 0, 0, 1, 0, 0)])
    return path


def test_sync_then_show_a_dated_card(db: Path) -> None:
    first = run(db, "prices", "sync", "--json")
    assert first["created"] and first["rating_run"] == 1
    assert not run(db, "prices", "sync", "--json")["created"]
    card = run(db, "prices", "show", "o3", "--provider", "openai", "--at", "2025-06-01", "--json")
    standard = next(r for r in card["rows"] if r["tier"] == "standard")
    assert (standard["input"], standard["output"], standard["to"]) == ("10", "40", "2025-06-10")


def test_unknown_model_in_show_is_not_found(db: Path) -> None:
    run(db, "prices", "show", "gpt-nope", code=1)


def test_unpriced_and_check_list_ledger_models_without_price(db: Path) -> None:
    rows = run(db, "unpriced", "--json")
    assert rows[0]["reason"] == "unknown model" and rows[0]["events"] == 2
    assert run(db, "unpriced", "--customer", "beta", "--json")[0]["events"] == 1
    issues = run(db, "prices", "check", "--json")
    assert {"kind": "unpriced in ledger", "provider": "openai", "model": "gpt-nope", "service_tier": None,
            "detail": "unknown model (2 events)"} in issues
    assert not [i for i in issues if i["kind"] in ("overlap", "gap")]


def test_rerate_is_recorded_and_listed(db: Path, tmp_path: Path) -> None:
    run(db, "prices", "sync")
    book = tmp_path / "b.toml"
    book.write_text('[[model]]\nprovider = "openai"\nmodel = "gpt-nope"\nprices = { input_mtok = "1", '
                    'output_mtok = "2" }\n')
    new = run(db, "prices", "sync", "--book", str(book), "--json")
    assert run(db, "unpriced", "--json")[0]["events"] == 2  # not re-priced until a rerate
    out = run(db, "rerate", "--from", "2025-03-02", "--catalog-version", new["version"], "--json")
    assert out["run_id"] == 2 and out["from"].startswith("2025-03-02")
    assert [r["events"] for r in run(db, "unpriced", "--json")] == [1]  # beta's event is now priced
    assert [r["events"] for r in run(db, "unpriced", "--run", "1", "--json")] == [2]
    assert [r["run_id"] for r in run(db, "prices", "runs", "--json")] == [1, 2]
    assert len(run(db, "prices", "versions", "--json")) == 2
