"""Event files: Parquet timestamp times, and rejects placed by their position in the whole file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from conftest import usage_event
from workmeter.app import Workmeter
from workmeter.core.errors import InvalidInput
from workmeter.ledger import files

MOMENT = dt.datetime(2026, 10, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)


def _table(events: list[dict[str, Any]], time: pa.Array | None = None, struct_data: bool = False) -> pa.Table:
    columns: dict[str, Any] = {c: pa.array([e[c] for e in events], pa.string()) for c in files.ENVELOPE[:-1]}
    if time is not None:
        columns["time"] = time
    datas = [e["data"] for e in events]
    columns["data"] = pa.array(datas) if struct_data else pa.array([orjson.dumps(d).decode() for d in datas])
    return pa.table(columns)


def _stored_times(wm: Workmeter) -> list[dt.datetime]:
    rows = wm.db.read().execute("SELECT time FROM events ORDER BY id").fetchall()
    return [r[0].astimezone(dt.UTC) for r in rows]


@pytest.mark.parametrize("struct_data", [False, True], ids=["duckdb-path", "arrow-path"])
@pytest.mark.parametrize("kind", [pa.timestamp("us", tz="UTC"), pa.timestamp("ns", tz="Europe/Paris"),
                                  pa.timestamp("ms", tz="+02:00")], ids=str)
def test_parquet_timestamp_with_a_zone_is_the_event_time(wm: Workmeter, tmp_path: Path, kind: pa.DataType,
                                                         struct_data: bool) -> None:
    events = [usage_event(f"e{i}") for i in range(3)]
    times = pa.array([MOMENT + dt.timedelta(hours=i) for i in range(3)], pa.timestamp("us", tz="UTC")).cast(kind)
    path = tmp_path / "events.parquet"
    pq.write_table(_table(events, times, struct_data), path)
    report = wm.ledger.ingest_file(str(path))
    assert report.summary() == {"accepted": 3, "duplicates": 0, "conflicts": 0, "rejected": 0}
    want = [(MOMENT + dt.timedelta(hours=i)).replace(microsecond=250000 if kind.unit != "s" else 0) for i in range(3)]
    assert _stored_times(wm) == want
    # The same events sent later with RFC 3339 text times are the same events: exact re-sends.
    again = wm.ledger.ingest([{**e, "time": w.isoformat()} for e, w in zip(events, want, strict=True)])
    assert again.duplicates == 3


@pytest.mark.parametrize("struct_data", [False, True], ids=["duckdb-path", "arrow-path"])
def test_parquet_timestamp_without_a_zone_refuses_the_file_with_the_reason(
        wm: Workmeter, tmp_path: Path, struct_data: bool) -> None:
    path = tmp_path / "naive.parquet"
    naive = pa.array([MOMENT.replace(tzinfo=None)], pa.timestamp("us"))
    pq.write_table(_table([usage_event("n1")], naive, struct_data), path)
    with pytest.raises(InvalidInput, match="timestamp without a time zone"):
        wm.ledger.ingest_file(str(path))
    assert wm.ledger.counts()["events"] == 0


def _bad_at(n: int, bad: set[int]) -> list[dict[str, Any]]:
    return [{**usage_event(f"e{i}"), "subject": ""} if i in bad else usage_event(f"e{i}") for i in range(n)]


@pytest.mark.parametrize("fmt", ["parquet-duckdb", "parquet-arrow", "csv"])
def test_reject_positions_count_from_the_start_of_the_file(wm: Workmeter, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.setattr(files, "CHUNK", 2)    # five events: three chunks
    table = _table(_bad_at(5, {1, 3, 4}), struct_data=fmt == "parquet-arrow")
    path = tmp_path / ("events.csv" if fmt == "csv" else "events.parquet")
    if fmt == "csv":
        pcsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    report = wm.ledger.ingest_file(str(path))
    assert (report.accepted, report.rejected) == (2, 3)
    assert sorted((r["position"], r["origin"]) for r in wm.ledger.rejects()) == \
        [(1, str(path)), (3, str(path)), (4, str(path))]


def _ndjson(tmp_path: Path) -> Path:
    good = [orjson.dumps(e).decode() for e in _bad_at(4, {2})]
    lines = [good[0], "", good[1], "not json", "  ", good[2] + "\r", good[3]]   # lines 1..7
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ndjson_positions_are_line_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "CHUNK", 2)
    tables = list(files.text_tables(str(_ndjson(tmp_path)), "ndjson"))
    assert [t.column("pos").to_pylist() for t in tables] == [[1, 3], [4, 6], [7]]
    assert tables[1].column("raw").to_pylist()[0] == "not json"
    assert not tables[1].column("raw").to_pylist()[1].endswith("\r")


def test_ndjson_rejects_name_their_line(wm: Workmeter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "CHUNK", 2)
    path = _ndjson(tmp_path)
    report = wm.ledger.ingest_file(str(path))
    assert (report.accepted, report.rejected) == (3, 2)
    assert sorted(r["position"] for r in wm.ledger.rejects()) == [4, 6]


def test_json_array_positions_are_item_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "CHUNK", 2)
    path = tmp_path / "events.json"
    path.write_bytes(orjson.dumps(_bad_at(3, set())))
    assert [t.column("pos").to_pylist() for t in files.text_tables(str(path), "json")] == [[0, 1], [2]]
