"""`workmeter usage` carries exact cost and counts unpriced events (never $0)."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from conftest import usage_event
from workmeter.app import Workmeter
from workmeter.interfaces.cli.main import app as cli


def test_usage_rows_carry_exact_cost_and_unpriced_counts(wm: Workmeter) -> None:
    wm.ledger.ingest([
        # Anthropic input_tokens excludes cache writes: 3 × $3 + 12,304 × $3.75 + 550 × $15 per million
        usage_event("a", model="claude-3-7-sonnet-20250219", time="2025-06-01T10:00:00Z",
                    usage={"input_tokens": 3, "cache_creation_input_tokens": 12304, "output_tokens": 550}),
        usage_event("b", model="definitely-not-a-model", time="2025-06-01T11:00:00Z"),
    ])
    rows = wm.usage("customer,model")
    by_model = {r["model"]: r for r in rows}
    assert by_model["claude-3-7-sonnet-20250219"]["cost"] == "0.054399"
    assert by_model["claude-3-7-sonnet-20250219"]["unpriced_events"] == 0
    assert by_model["definitely-not-a-model"]["unpriced_events"] == 1
    assert by_model["definitely-not-a-model"]["cost"] is None  # unknown, never $0


def test_usage_cli_json_matches_the_service(tmp_path) -> None:
    db = tmp_path / "cli.duckdb"
    events = tmp_path / "events.ndjson"
    events.write_bytes(b"\n".join(orjson.dumps(usage_event(f"e{i}", subject=f"c{i % 2}")) for i in range(6)))
    runner = CliRunner()
    ingest = runner.invoke(cli, ["--db", str(db), "ingest", str(events), "--json"])
    assert ingest.exit_code == 0, ingest.output
    assert orjson.loads(ingest.stdout) == {"accepted": 6, "duplicates": 0, "conflicts": 0, "rejected": 0}
    out = runner.invoke(cli, ["--db", str(db), "usage", "--by", "customer", "--json"])
    assert out.exit_code == 0, out.output
    rows = orjson.loads(out.stdout)
    assert [(r["customer"], r["events"], r["input"]) for r in rows] == [("c0", 3, 300), ("c1", 3, 300)]
    with Workmeter.open(db) as app:
        assert orjson.loads(orjson.dumps(app.usage("customer"))) == rows
