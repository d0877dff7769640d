"""Human tables keep every value whole: ids and amounts can be read and copied at 100 columns."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from workmeter.interfaces.cli.main import app as cli
from workmeter.interfaces.cli.tables import render_table


def rendered(rows: list[dict[str, object]], width: int, columns: list[str] | None = None) -> str:
    out = io.StringIO()
    render_table(Console(file=out, width=width, color_system=None), rows, columns, "t")
    return out.getvalue()


USAGE_ROW = {"customer": "cus_0001", "events": 30039, "input": 300983272, "cache_read": 240208971,
             "cache_write_5m": 15155366, "cache_write_1h": 2683647, "output": 53049296, "reasoning": 19810408,
             "web_search": 3611, "cost": Decimal("2232.240798168"), "unpriced_events": 185}


def test_usage_by_customer_fits_100_columns_with_every_digit() -> None:
    text = rendered([USAGE_ROW, {**USAGE_ROW, "customer": "cus_0002", "cost": Decimal("3937.470175913")}], 100)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 100
    for value in ("cus_0001", "cus_0002", "300983272", "2232.240798168", "3937.470175913", "19810408"):
        assert value in text
    assert "…" not in text


def test_a_table_wider_than_the_terminal_is_printed_whole_not_cut() -> None:
    rows = [{"task_id": f"tsk_{i:016x}", "model": "claude-sonnet-4-5-20250929", "cost": Decimal("0.05692364"),
             "invoice": "WM-000001", "key": "cache_write_5m_tokens", "tokens": 123456789} for i in range(3)]
    text = rendered(rows, 40)
    for value in ("tsk_0000000000000002", "claude-sonnet-4-5-20250929", "0.05692364", "WM-000001",
                  "cache_write_5m_tokens", "123456789"):
        assert value in text
    assert "…" not in text


def test_values_print_verbatim_and_in_display_form() -> None:
    rows = [{"status": "[void]", "name": "Acme [bold]EU[/bold]", "filter": {"model": "claude-sonnet-4-5"},
             "at": datetime(2026, 10, 1, 12, 0, 0, 123456, tzinfo=UTC), "created_at": "2026-11-26T21:28:52.7+00:00",
             "duration_s": 211.83200001716614, "amount": Decimal("99.00")}]
    text = rendered(rows, 160)
    assert "[void]" in text and "Acme [bold]EU[/bold]" in text
    assert '{"model":"claude-sonnet-4-5"}' in text  # JSON, not a Python repr
    assert "2026-10-01T12:00:00Z" in text and "2026-11-26T21:28:52Z" in text
    assert "211.832" in text and "211.83200001716614" not in text
    assert "99" in text


def test_meters_list_shows_every_meter_key_whole(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "t.duckdb"), "meters", "list"])
    assert result.exit_code == 0, result.output
    for key in ("cache_write_5m_tokens", "cache_write_1h_tokens", "web_search_requests", "reasoning_tokens"):
        assert key in result.stdout


def test_a_long_title_over_a_narrow_table_stays_on_one_line() -> None:
    out = io.StringIO()
    title = "ingest: what the ledger did with the month"
    render_table(Console(file=out, width=100, color_system=None), [{"status": "accepted", "events": 19740}], None,
                 title)
    assert out.getvalue().splitlines()[0] == title
