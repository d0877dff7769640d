"""The set-based rater: ``rated_events`` prices ledger rows by their own time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from workmeter.app import Workmeter
from workmeter.store.schema import FILL_RATE_KEYS

COLS = ("seq", "source", "id", "type", "subject", "time", "provider", "model", "service_tier",
        "input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "web_search")


def insert(wm: Workmeter, rows: list[tuple[Any, ...]]) -> None:
    """Ledger rows straight into ``events`` (seq, id, subject, time, provider, model, tier, buckets…)."""
    with wm.db.write() as con:
        for seq, subject, time, provider, model, tier, *counts in rows:
            con.execute(f"INSERT INTO events ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})",
                        [seq, "t", str(seq), "llm.usage", subject, time, provider, model, tier, *counts])
        for stmt in FILL_RATE_KEYS:  # as the ledger gives them
            con.execute(stmt)


def rated(wm: Workmeter) -> dict[str, dict[str, Any]]:
    wm.rater.refresh()
    cur = wm.db.read()
    cur.execute("SELECT * FROM rated_events ORDER BY seq")
    names = [d[0] for d in cur.description]
    return {r[names.index("id")]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


@pytest.fixture
def ledger(wm: Workmeter) -> dict[str, dict[str, Any]]:
    insert(wm, [
        (1, "cus_1", "2025-03-01T12:00:00Z", "anthropic", "claude-3-7-sonnet-20250219", None, 3, 0, 12304, 0, 550, 0, 0),
        (2, "cus_1", "2025-06-09T23:59:59Z", "openai", "o3", "default", 10**6, 0, 0, 0, 10**6, 0, 0),
        (3, "cus_1", "2025-06-10T00:00:00Z", "openai", "o3", "default", 10**6, 0, 0, 0, 10**6, 0, 0),
        (4, "cus_2", "2025-06-10T00:00:00Z", "openai", "gpt-9", None, 1, 0, 0, 0, 1, 0, 0),
        (5, "cus_2", "2025-06-10T00:00:00Z", "openai", "o3", "flex", 1, 0, 0, 0, 1, 0, 0),
    ])
    return rated(wm)


def test_cost_columns_are_exact_decimals(ledger: dict[str, dict[str, Any]]) -> None:
    row = ledger["1"]
    assert row["cost"] == Decimal("0.054399")
    assert (row["cost_input"], row["cost_cache_write_5m"], row["cost_output"]) == (
        Decimal("0.000009"), Decimal("0.04614"), Decimal("0.00825"))
    assert row["priced"] is True and row["unpriced_reason"] is None
    assert row["catalog_model"] == "claude-3-7-sonnet-latest"
    assert row["catalog_version"].startswith("genai-prices-")


def test_price_is_chosen_by_the_event_time(ledger: dict[str, dict[str, Any]]) -> None:
    assert ledger["2"]["cost"] == Decimal(50)  # $10 + $40 per million, until 2025-06-09
    assert ledger["3"]["cost"] == Decimal(10)  # $2 + $8 from 2025-06-10


def test_unpriced_events_carry_a_reason_never_zero(ledger: dict[str, dict[str, Any]]) -> None:
    assert ledger["4"]["cost"] is None and ledger["4"]["priced"] is False
    assert ledger["4"]["unpriced_reason"] == "unknown model"
    assert ledger["5"]["unpriced_reason"] == "service tier flex not in catalog"


def test_filters_on_subject_and_time(wm: Workmeter, ledger: dict[str, dict[str, Any]]) -> None:
    row = wm.db.read().execute(
        "SELECT sum(cost), count(*) FILTER (WHERE NOT priced) FROM rated_events "
        "WHERE subject = ? AND time >= ? AND time < ?", ["cus_1", "2025-06-01", "2025-07-01"]).fetchone()
    assert row == (Decimal(60), 0)


def test_unpriced_report_groups_by_reason(wm: Workmeter, ledger: dict[str, dict[str, Any]]) -> None:
    reasons = {r["reason"]: r["events"] for r in wm.rater.unpriced()}
    assert reasons == {"unknown model": 1, "service tier flex not in catalog": 1}


def test_huge_events_stay_exact(wm: Workmeter) -> None:
    # claude-3-7-sonnet output $15 per million; 2^53 - 1 tokens (the largest count the ledger accepts)
    insert(wm, [(1, "cus_1", "2025-03-01T12:00:00Z", "anthropic", "claude-3-7-sonnet-20250219", None,
                 0, 0, 0, 0, 2**53 - 1, 0, 0)])
    assert rated(wm)["1"]["cost"] == Decimal(2**53 - 1) * 15 / 1_000_000


def test_summed_then_scaled_costs_equal_the_view(wm: Workmeter, ledger: dict[str, dict[str, Any]]) -> None:
    from workmeter.rating.aggregate import cost_by

    insert(wm, [(10 + i, f"cus_{i % 3}", f"2025-0{1 + i % 9}-0{1 + i % 8}T1{i % 10}:00:00Z", "openai", "o3",
                 None, 1234 * i, 17 * i, 0, 0, 999 * i, 0, i % 2) for i in range(30)])
    wm.rater.refresh()
    got = cost_by(wm.db, ["subject", "date_trunc('month', time)"])
    view = wm.db.read().execute(
        "SELECT subject, date_trunc('month', time), count(*), sum(cost), count(*) FILTER (WHERE NOT priced) "
        "FROM rated_events GROUP BY ALL ORDER BY ALL").fetchall()
    assert [tuple(r.values()) for r in got] == view


def test_cost_by_without_groups_is_the_ledger_total(wm: Workmeter, ledger: dict[str, dict[str, Any]]) -> None:
    from workmeter.rating.aggregate import cost_by

    wm.rater.refresh()
    total = wm.db.read().execute(
        "SELECT count(*), sum(cost), count(*) FILTER (WHERE NOT priced) FROM rated_events").fetchone()
    assert [tuple(r.values()) for r in cost_by(wm.db, [])] == [total]
    assert total is not None and total[2] == 2  # an unknown model and an unlisted tier, never $0
