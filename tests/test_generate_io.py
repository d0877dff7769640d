"""Generated events end to end: files in every format, the ledger's counts, the CLI, the render engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from workmeter.app import Workmeter
from workmeter.demo import counts_of, generate_table, iter_chunks
from workmeter.demo.output import write, write_chunks
from workmeter.demo.text import Int, Opt, Template, fused, hex_text, join, pieces
from workmeter.interfaces.cli.main import app

START = datetime(2026, 10, 1, tzinfo=UTC)


def test_files_in_every_format_hold_the_same_events(tmp_path: Path) -> None:
    table = generate_table(3_000, seed=2, start=START, days=7, customers=8)
    for ext in ("parquet", "ndjson", "json"):
        assert write(table, tmp_path / f"events.{ext}") == 3_000
    back = pq.read_table(tmp_path / "events.parquet")
    assert back.select(table.column_names).equals(table.combine_chunks().replace_schema_metadata(None))
    lines = [json.loads(line) for line in (tmp_path / "events.ndjson").read_text().splitlines()]
    assert lines == json.loads((tmp_path / "events.json").read_text())
    expected = table.to_pylist()
    for line, row in zip(lines, expected, strict=True):
        assert isinstance(line["data"], dict) and line["data"] == json.loads(row["data"])
        assert line.get("subject") == row["subject"] and line["time"] == row["time"]


def test_chunked_writing_matches_one_table(tmp_path: Path) -> None:
    n = write_chunks(iter_chunks(5_000, 4, START, 7, 8, chunk=2_000), tmp_path / "e.ndjson")
    one = [r["id"] for c in iter_chunks(5_000, 4, START, 7, 8, chunk=2_000) for r in c.select(["id"]).to_pylist()]
    written = [json.loads(line)["id"] for line in (tmp_path / "e.ndjson").read_text().splitlines()]
    assert n == 5_000 and written == one


def test_the_ledger_reports_exactly_the_generated_counts(tmp_path: Path) -> None:
    table = generate_table(5_000, seed=5, start=START, days=30, customers=10)
    c = counts_of(table)
    with Workmeter.open(tmp_path / "wm.duckdb") as wm:
        first = wm.ledger.ingest_arrow(table)
        again = wm.ledger.ingest_arrow(table)
    assert first.summary() == {"accepted": c.accepted, "duplicates": c.duplicates,
                               "conflicts": c.conflicts, "rejected": c.rejected}
    assert again.summary() == {"accepted": 0, "duplicates": c.accepted + c.duplicates,
                               "conflicts": c.conflicts, "rejected": c.rejected}


def test_cli_generate_and_demo(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "g.ndjson"
    res = runner.invoke(app, ["--json", "generate", "--events", "2500", "--out", str(out), "--seed", "9",
                              "--days", "5", "--customers", "6", "--start", "2026-10-01"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["events"] == 2500 and len(out.read_text().splitlines()) == 2500
    assert summary["duplicates"] == 25 and summary["rejected"] == 5
    db = tmp_path / "demo.duckdb"
    res = runner.invoke(app, ["--db", str(db), "--json", "demo", "--events", "3000", "--month", "2026-10"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    ingest = {row["status"]: row for row in shown["steps"]["ingest"]}
    assert all(row["events"] == row["generated as"] for row in ingest.values())
    assert ingest["duplicates"]["events"] == 30 and ingest["rejected"]["events"] == 6
    top = shown["steps"]["usage"]
    assert len(top) == 10 and [r["events"] for r in top] == sorted((r["events"] for r in top), reverse=True)
    assert all(r["customer"].startswith("cus_") and r["name"] for r in top)
    assert len(shown["steps"]["rejects"]) == 6, "one reject reason per bad kind"


def test_cli_generate_refuses_an_unknown_extension(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["generate", "--events", "10", "--out", str(tmp_path / "x.csv")])
    assert res.exit_code != 0 and not (tmp_path / "x.csv").exists()


_TEMPLATE: Template = ('{"a":', Int("a"), Opt("has_c", (',"c":', Int("c"), ',"d":[', Int("a"), "]")), "}")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-(2**62), 2**62), st.booleans(), st.integers(0, 2**62),
                          st.integers(0, 2**64 - 1), st.sampled_from(["x", "long-value", 'q"uote'])),
                min_size=1, max_size=40))
def test_text_pieces_write_the_same_json_as_python(rows: list[tuple[int, bool, int, int, str]]) -> None:
    cols = list(zip(*rows, strict=True))
    values = {"a": np.array(cols[0]), "has_c": np.array(cols[1]), "c": np.array(cols[2])}
    ids = np.array(cols[3], dtype=np.uint64)
    choices = ["x", "long-value", 'q"uote']
    kind = np.array([choices.index(k) for k in cols[4]])
    label = fused([(kind, 3)], lambda k: f',"k":{json.dumps(choices[k])}')
    text = join([*pieces(_TEMPLATE[:-1], values), label, hex_text(len(rows), [',"id":"', ids, '"']), "}"])
    expected = [{"a": a, **({"c": c, "d": [a]} if has else {}), "k": k, "id": f"{i:016x}"}
                for a, has, c, i, k in rows]
    assert [json.loads(t) for t in text.to_pylist()] == expected
    assert text.to_pylist() == [json.dumps(e, separators=(",", ":")) for e in expected]
