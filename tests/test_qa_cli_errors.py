"""CLI errors: one line on stderr naming what and where, a documented exit code, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from workmeter.interfaces.cli import main


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    """Run ``workmeter --db tmp ARGS`` through the real entry point (its one error mapping included)."""

    def run(*args: str) -> Result:
        monkeypatch.setattr("sys.argv", ["workmeter", "--db", str(tmp_path / "t.duckdb"), *args])
        with pytest.raises(SystemExit) as stop:
            main.main()
        out = capsys.readouterr()
        code = stop.value.code
        return Result(code if isinstance(code, int) else 0 if code is None else 1, out.out, out.err)

    return run


def one_error_line(result: Result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def test_a_long_error_message_stays_on_one_line(invoke: Invoke) -> None:
    result = invoke("usage", "--by", "customer,nonsense")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith("error [invalid_input] (--by): unknown group key 'nonsense'")
    assert line.rstrip().endswith("task")  # the whole list of keys, not wrapped at 80 columns


def test_ingest_reports_an_unreadable_file_like_every_other_error(invoke: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / "missing.ndjson"
    result = invoke("ingest", str(missing))
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
    assert errors == [f"error [invalid_input] ({missing}): cannot read {missing}: No such file or directory"]


@pytest.mark.parametrize("value", ["2026-13", "2026-02-30", "2026/10/01"])
def test_an_impossible_date_is_an_error_line_not_a_traceback(invoke: Invoke, value: str) -> None:
    result = invoke("meters", "query", "llm_calls", "--from", value)
    assert result.exit_code == 2
    assert one_error_line(result) == (f"error [invalid_input] (--from): '{value}' is not a date like 2026-10-01 "
                                      "or a month like 2026-10")


def test_an_unknown_timezone_for_meter_windows_is_refused(invoke: Invoke) -> None:
    result = invoke("meters", "query", "llm_calls", "--by", "customer", "--tz", "Mars/Base")
    assert result.exit_code == 2
    assert one_error_line(result) == ("error [invalid_input] (tz): unknown timezone 'Mars/Base' "
                                      "(use an IANA name like Europe/Paris)")


@pytest.mark.parametrize("command", [["usage"], ["unpriced"], ["meters", "query", "llm_calls"]])
def test_an_inverted_time_range_is_an_error_not_an_empty_report(invoke: Invoke, command: list[str]) -> None:
    result = invoke(*command, "--from", "2026-11-01", "--to", "2026-10")
    assert result.exit_code == 2
    assert one_error_line(result) == "error [invalid_input] (--from): --from must be before --to"
