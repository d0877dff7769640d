"""Usage statements: quantities are what the cost is the price of; every amount is the sum of its parts.

Prices (a price book): ``acme-ai/unit-1`` input $2, output $10 per million
tokens and a $0.01 fee per call, standard tier only — a ``flex`` call of the
same model is unpriced (no flex price), and so is any call of ``mystery-9``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_invoice_scenarios import FEE_AND_MARKUP, Clock, apply, ingest, plan, usage
from workmeter.app import Workmeter

BOOK = """
[[model]]
provider = "acme-ai"
model = "unit-1"
prices = { input_mtok = "2", output_mtok = "10", request_fee = "0.01" }
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("statement-template")
    (folder / "fees.toml").write_text(BOOK)
    with Workmeter.open(folder / "t.duckdb") as wm:
        wm.catalog.sync([folder / "fees.toml"])
        assert wm.rater is not None
        wm.billing.add_customer("acme", "Acme", "USD", "UTC")
        apply(wm, folder, plan("pro", FEE_AND_MARKUP))
        wm.billing.subscribe("acme", "pro", date(2026, 10, 1))
    return folder / "t.duckdb"


@pytest.fixture
def app(template: Path, tmp_path: Path) -> Iterator[Workmeter]:
    shutil.copy(template, tmp_path / "wm.duckdb")
    with Workmeter.open(tmp_path / "wm.duckdb") as wm:
        wm.billing.clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        yield wm


def call(day: int, tier: str | None = None, model: str = "unit-1", **buckets: int) -> dict[str, Any]:
    event = usage("acme", f"2026-10-{day:02d}T12:00:00Z", model=model, **buckets)
    if tier:
        event["data"]["service_tier"] = tier
    return event


def check_sums(statement: dict[str, Any]) -> None:
    """A model's cost = Σ its bucket rows; usage cost = Σ models; subtotal = Σ lines; total = subtotal − credits."""
    for m in statement["models"]:
        if m["cost"] is not None:
            assert sum(Decimal(b["cost"]) for b in m["buckets"]) == Decimal(m["cost"])
    priced = [Decimal(m["cost"]) for m in statement["models"] if m["cost"] is not None]
    assert Decimal(statement["usage_totals"]["cost"]) == sum(priced, Decimal(0))
    assert sum(Decimal(ln["amount"]) for ln in statement["lines"]) == Decimal(statement["subtotal"])
    assert Decimal(statement["total"]) == Decimal(statement["subtotal"]) - Decimal(statement["credits_applied"])


def test_unpriced_calls_tokens_are_shown_apart_from_priced_quantities(app: Workmeter) -> None:
    ingest(app, [call(3, input=1_000_000, output=100_000), call(4, input=500_000),
                 call(5, "flex", input=1_000_000, output=7), call(6, model="mystery-9", input=42)])
    statement = app.billing.statement("acme", "2026-10")
    mystery, unit = statement["models"]  # sorted by provider/model
    assert unit["buckets"] == [
        {"bucket": "input", "quantity": 1_500_000, "cost": "3", "unpriced_quantity": 1_000_000},
        {"bucket": "output", "quantity": 100_000, "cost": "1", "unpriced_quantity": 7},
        {"bucket": "request", "quantity": 2, "cost": "0.02", "unpriced_quantity": 1},  # 2 priced calls × $0.01
    ]
    assert (unit["cost"], unit["events"], unit["unpriced_events"]) == ("4.02", 3, 1)
    assert mystery["cost"] is None
    assert mystery["buckets"] == [{"bucket": "input", "quantity": 0, "cost": None, "unpriced_quantity": 42}]
    tokens = statement["lines"][1]  # markup 20% on 4.02: the details count only priced calls
    assert [(d["bucket"], d["quantity"], d["cost"]) for d in tokens["details"]] == [
        ("input", 1_500_000, "3"), ("output", 100_000, "1"), ("request", 2, "0.02")]
    assert tokens["amount"] == "4.82" and statement["total"] == "103.82"  # 99 + 4.824 rounded half-even
    check_sums(statement)


def test_a_finalized_statement_lists_every_invoice_line(app: Workmeter) -> None:
    ingest(app, [call(3, input=1_000_000), call(5, "flex", input=10)])
    invoice = app.billing.finalize("acme", "2026-10")
    statement = app.billing.statement("acme", "2026-10")
    assert [ln["amount"] for ln in statement["lines"]] == [ln["amount"] for ln in invoice["lines"]]
    assert statement["total"] == invoice["total"] == "101.41"  # 99 + (2 + 0.01) × 1.2
    check_sums(statement)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from([None, "flex"]), st.integers(0, 3_000_000), st.integers(0, 50_000)),
                min_size=1, max_size=6))
def test_priced_and_unpriced_quantities_add_up_to_what_was_sent(app: Workmeter, calls: list[Any]) -> None:
    first = app.billing.statement("acme", "2026-10")
    ingest(app, [call(10, tier, input=i, output=o) for tier, i, o in calls])
    statement = app.billing.statement("acme", "2026-10")
    unit = {b["bucket"]: b for m in statement["models"] for b in m["buckets"]}
    before = {b["bucket"]: b for m in first["models"] for b in m["buckets"]}
    for bucket, index in (("input", 1), ("output", 2)):
        sent = sum(c[index] for c in calls)
        now, was = unit.get(bucket), before.get(bucket)
        got = (now["quantity"] + now["unpriced_quantity"] if now else 0) - (
            was["quantity"] + was["unpriced_quantity"] if was else 0)
        assert got == sent
    priced = [c for c in calls if c[0] is None]
    expected = sum((Decimal(i) * 2 + Decimal(o) * 10) / 1_000_000 + Decimal("0.01") for _, i, o in priced)
    previous = Decimal(first["usage_totals"]["cost"])
    assert Decimal(statement["usage_totals"]["cost"]) - previous == expected
    check_sums(statement)


def test_a_call_too_large_for_the_fast_integer_path_is_still_billed_exactly(app: Workmeter) -> None:
    """10^13 output tokens at $10/M is $10^8: its pico-dollar product (10^20) overflows BIGINT."""
    ingest(app, [call(3, output=10**13), call(4, output=1)])
    statement = app.billing.statement("acme", "2026-10")
    [unit] = statement["models"]
    assert unit["cost"] == "100000000.02001"  # 10^8 + 0.00001 + two $0.01 fees
    assert statement["lines"][1]["amount"] == "120000000.02"  # × 1.2 = 120000000.024012
    check_sums(statement)
