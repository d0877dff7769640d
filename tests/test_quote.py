"""``workmeter prices quote``: the interface contract for pricing usage objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from workmeter.core.errors import InvalidUsage
from workmeter.interfaces.cli.main import app as cli

ANTHROPIC = '{"input_tokens": 3, "cache_creation_input_tokens": 12304, "output_tokens": 550}'


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(tmp_path_factory.mktemp("quote")) / "q.duckdb"
    run(path, "prices", "sync")
    return path


def run(db: Path, *args: str, code: int = 0, stdin: str | None = None) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], input=stdin)
    assert result.exit_code == code, result.output + result.stderr
    return result


def quote(db: Path, *args: str, code: int = 0) -> dict[str, Any]:
    return orjson.loads(run(db, "prices", "quote", *args, "--json", code=code).stdout)  # type: ignore[no-any-return]


def test_quote_prints_the_contract_shape(db: Path) -> None:
    out = quote(db, "--provider", "anthropic", "--model", "claude-3-7-sonnet-20250219",
                "--at", "2025-03-01T12:00:00Z", "--usage", ANTHROPIC)
    assert set(out) == {"status", "total", "currency", "catalog_version", "lines"}
    assert (out["status"], out["total"], out["currency"]) == ("priced", "0.054399", "USD")
    assert out["lines"] == [
        {"bucket": "input", "quantity": 3, "unit_price_per_million": "3", "amount": "0.000009"},
        {"bucket": "cache_write_5m", "quantity": 12304, "unit_price_per_million": "3.75", "amount": "0.04614"},
        {"bucket": "output", "quantity": 550, "unit_price_per_million": "15", "amount": "0.00825"},
    ]


def test_unpriced_quote_exits_3_with_a_reason(db: Path) -> None:
    out = quote(db, "--provider", "openai", "--model", "gpt-unknown", "--usage", '{"prompt_tokens": 5}', code=3)
    assert out == {"status": "unpriced", "reason": "unknown model"}


def test_usage_format_and_service_tier(db: Path) -> None:
    usage = '{"prompt_tokens": 2000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 1500}}'
    out = quote(db, "--provider", "openai", "--model", "gpt-4o", "--at", "2025-09-01", "--usage", usage,
                "--usage-format", "openai-chat", "--service-tier", "batch")
    assert out["total"] == "0.0020625"  # half of $0.004125


def test_bad_usage_is_an_input_error(db: Path) -> None:
    result = run(db, "prices", "quote", "--provider", "anthropic", "--model", "claude-3-7-sonnet-20250219",
                 "--usage", '{"input_tokens": -1, "output_tokens": 2}', code=1)
    assert isinstance(result.exception, InvalidUsage) and "negative" in result.exception.message


def test_batch_quotes_every_line_in_order(db: Path, tmp_path: Path) -> None:
    lines = [
        {"provider": "anthropic", "model": "claude-3-7-sonnet-20250219", "at": "2025-03-01T00:00:00Z",
         "usage": orjson.loads(ANTHROPIC)},
        {"provider": "openai", "model": "o3", "at": "2025-06-09T12:00:00Z",
         "usage": {"prompt_tokens": 1000000, "completion_tokens": 0}},
        {"provider": "openai", "model": "nope", "at": "2025-06-09T12:00:00Z", "usage": {"prompt_tokens": 1}},
        {"provider": "anthropic", "model": "claude-3-7-sonnet-20250219", "usage": {"input_tokens": "x"}},
    ]
    path = tmp_path / "batch.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n\n")
    out = [orjson.loads(x) for x in run(db, "prices", "quote", "--batch", str(path), "--json", code=3)
           .stdout.splitlines()]
    assert [o["status"] for o in out] == ["priced", "priced", "unpriced", "invalid"]
    assert (out[0]["total"], out[1]["total"]) == ("0.054399", "10")
    assert out[3]["error"]["code"] == "invalid_usage"
