"""Whole billing periods on a frozen clock, real events through the real ledger and rater.

Costs come from a price book for a test model, ``acme-ai/unit-1``: input $2,
output $10, cache reads $0.20 per million tokens. Every expected total below is
worked out by hand in the comment beside it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmeter.app import Workmeter

BOOK = """
[book]
name = "test-book"

[[model]]
provider = "acme-ai"
model = "unit-1"
prices = { input_mtok = "2", output_mtok = "10", cache_read_mtok = "0.2" }
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


_TEMPLATES: dict[str, Path] = {}


def make_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the catalog synced (list prices + the book) and the rater built.

    Built once per test session (a sync takes seconds) and copied by every test.
    """
    cached = _TEMPLATES.get("db")
    if cached is not None and cached.exists():
        return cached
    folder = tmp_path_factory.mktemp("billing-template")
    (folder / "book.toml").write_text(BOOK)
    with Workmeter.open(folder / "template.duckdb") as wm:
        wm.catalog.sync([folder / "book.toml"])
        assert wm.rater is not None
    _TEMPLATES["db"] = folder / "template.duckdb"
    return _TEMPLATES["db"]


def open_copy(template: Path, tmp_path: Path) -> Iterator[Workmeter]:
    """A fresh copy of the template, billing on a frozen clock (Nov 2, 2026, 09:00 UTC)."""
    shutil.copy(template, tmp_path / "wm.duckdb")
    wm = Workmeter.open(tmp_path / "wm.duckdb")
    wm.billing.clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    try:
        yield wm
    finally:
        wm.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory)


@pytest.fixture
def app(template: Path, tmp_path: Path) -> Iterator[Workmeter]:
    yield from open_copy(template, tmp_path)


_ids = iter(range(1, 10**9))


def usage(subject: str, time: str, model: str = "unit-1", provider: str = "acme-ai", **buckets: int) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"u{next(_ids)}", "source": "test", "type": "llm.usage",
            "subject": subject, "time": time,
            "data": {"provider": provider, "model": model, "usage_format": "buckets", "usage": buckets}}


def job(subject: str, time: str, pages: int) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"j{next(_ids)}", "source": "test", "type": "job.completed",
            "subject": subject, "time": time, "data": {"pages": pages, "region": "eu"}}


def ingest(app: Workmeter, events: list[dict[str, Any]]) -> None:
    report = app.ledger.ingest(events)
    assert report.accepted == len(events), report.summary()


def apply(app: Workmeter, tmp_path: Path, text: str, name: str = "plan.toml") -> None:
    path = tmp_path / name
    path.write_text(text)
    app.billing.apply_plans([path])


def plan(key: str, charges: str, extra: str = "", currency: str = "USD") -> str:
    return f'[plan]\nkey = "{key}"\ncurrency = "{currency}"\n\n{charges}\n{extra}'


FEE_AND_MARKUP = """
[[charge]]
key = "platform_fee"
type = "flat"
amount = "99.00"

[[charge]]
key = "tokens"
type = "markup"
percent = "20"
"""

#: October in Paris: 6.50 of rated cost (2 + 1 + 1 + 2.5); the last event is November local time.
PARIS_OCTOBER = [
    ("2026-10-03T10:00:00Z", {"input": 1_000_000, "output": 100_000}),  # 2 + 1
    ("2026-10-31T22:30:00Z", {"input": 500_000}),                      # Oct 31 23:30 Paris: 1
    ("2026-09-30T22:30:00Z", {"output": 250_000}),                     # Oct 1 00:30 Paris: 2.5
    ("2026-10-31T23:30:00Z", {"input": 9_000_000}),                    # Nov 1 00:30 Paris: not October
]


def paris_customer(app: Workmeter, tmp_path: Path, charges: str = FEE_AND_MARKUP, extra: str = "") -> None:
    app.billing.add_customer("acme", "Acme SAS", "USD", "Europe/Paris")
    apply(app, tmp_path, plan("pro", charges, extra))
    app.billing.subscribe("acme", "pro", date(2026, 9, 1))
    ingest(app, [usage("acme", t, **b) for t, b in PARIS_OCTOBER])


def amounts(doc: dict[str, Any]) -> dict[str, str]:
    return {ln["charge"]: ln["amount"] for ln in doc["lines"]}


def test_flat_fee_and_markup_over_a_month_in_the_customers_timezone(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    doc = app.billing.preview("acme", "2026-10")
    assert doc["period"] == {"start": "2026-10-01T00:00:00+02:00", "end": "2026-11-01T00:00:00+01:00"}
    assert amounts(doc) == {"platform_fee": "99.00", "tokens": "7.80"}  # 6.50 × 1.2
    assert doc["lines"][1]["amount_exact"] == "7.8" and doc["lines"][1]["quantity"] == "6.5"
    assert (doc["subtotal"], doc["credits_applied"], doc["total"]) == ("106.80", "0.00", "106.80")
    assert doc["number"] is None and doc["status"] == "draft" and doc["warnings"] == []
    assert list(doc) == ["number", "customer", "period", "currency", "status", "lines", "subtotal",
                         "credits_applied", "total", "warnings"]


def test_preview_is_recomputable_and_identical_on_rerun(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    first = orjson.dumps(app.billing.preview("acme", "2026-10"))
    assert orjson.dumps(app.billing.preview("acme", "2026-10")) == first
    ingest(app, [usage("acme", "2026-10-15T12:00:00Z", output=100_000)])  # +1.00 cost → +1.20
    assert app.billing.preview("acme", "2026-10")["total"] == "108.00"


JOB_METER = """
[[meter]]
key = "pages"
event_type = "job.completed"
aggregation = "sum"
property = "$.pages"
filter = { region = "eu" }
"""


@pytest.mark.parametrize(("charge", "total"), [
    ('type = "per_unit"\nmeter = "pages"\nunit_price = "0.01"\nincluded = 200', "10.34"),   # 1034 × 0.01
    ('type = "graduated"\nmeter = "pages"\ntiers = [{ up_to = 1000, unit_price = "0.01" }, '
     '{ unit_price = "0.005" }]', "11.17"),                                                 # 10 + 234 × 0.005
    ('type = "volume"\nmeter = "pages"\ntiers = [{ up_to = 1000, unit_price = "0.01" }, '
     '{ unit_price = "0.005" }]', "6.17"),                                                  # 1234 × 0.005
    ('type = "package"\nmeter = "pages"\npackage_size = 500\npackage_price = "4.00"', "12.00"),  # 3 packages
    ('type = "percentage"\npercent = "50"', "3.25"),                                         # 6.50 × 50%
    ('type = "per_token"\nmodels = ["unit-*"]\nprices = { input = "4" }', "6.00"),          # 1.5M × $4/M
])
def test_each_charge_type_over_a_period(app: Workmeter, tmp_path: Path, charge: str, total: str) -> None:
    paris_customer(app, tmp_path, f'{JOB_METER}\n[[charge]]\nkey = "c"\n{charge}\n')
    ingest(app, [job("acme", f"2026-10-{d:02d}T08:00:00Z", p) for d, p in ((2, 1000), (9, 200), (20, 34))]
           + [job("acme", "2026-11-02T08:00:00Z", 999)])  # November: not in October
    doc = app.billing.preview("acme", "2026-10")
    assert doc["total"] == total


def test_minimum_commitment_trues_up_usage_excluding_flat_fees(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path, extra='[commitment]\nminimum = "500.00"\n')
    doc = app.billing.preview("acme", "2026-10")
    # usage 7.80 < 500: true-up 492.20; flat 99 is not counted toward the minimum
    assert amounts(doc) == {"platform_fee": "99.00", "tokens": "7.80", "minimum_commitment": "492.20"}
    assert doc["total"] == "599.00"


def test_maximum_commitment_caps_usage(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path, extra='[commitment]\nmaximum = "5.00"\n')
    doc = app.billing.preview("acme", "2026-10")
    assert amounts(doc) == {"platform_fee": "99.00", "tokens": "7.80", "maximum_commitment": "-2.80"}
    assert doc["total"] == "104.00"  # 99 + usage capped at 5


def test_plan_change_mid_period_prorates_flat_fees_by_day(app: Workmeter, tmp_path: Path) -> None:
    app.billing.add_customer("bob", currency="USD", timezone="UTC")
    apply(app, tmp_path, plan("basic", '[[charge]]\nkey = "fee"\ntype = "flat"\namount = "31.00"\n'
                              '[[charge]]\nkey = "tokens"\ntype = "percentage"\npercent = "100"\n'), "basic.toml")
    apply(app, tmp_path, plan("pro", '[[charge]]\nkey = "fee"\ntype = "flat"\namount = "62.00"\n'
                              '[[charge]]\nkey = "tokens"\ntype = "markup"\npercent = "50"\n'), "pro.toml")
    app.billing.subscribe("bob", "basic", date(2026, 10, 1))
    app.billing.subscribe("bob", "pro", date(2026, 10, 11))
    ingest(app, [usage("bob", "2026-10-05T00:00:00Z", input=1_000_000),    # basic: 2.00 at 100%
                 usage("bob", "2026-10-11T00:00:00Z", input=1_000_000)])   # pro: 2.00 × 1.5 = 3.00
    doc = app.billing.preview("bob", "2026-10")
    # basic 31 × 10/31 = 10.00; pro 62 × 21/31 = 42.00
    assert [ln["amount"] for ln in doc["lines"]] == ["10.00", "2.00", "42.00", "3.00"]
    assert "10 of 31 days" in doc["lines"][0]["description"] and "Oct 11–31" in doc["lines"][2]["description"]
    assert doc["total"] == "57.00"


def test_progressive_billing_issues_an_interim_invoice_at_the_threshold(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path, extra='[progressive_billing]\nthreshold = "5.00"\n')
    clock = app.billing.clock
    clock.now = datetime(2026, 10, 20, tzinfo=UTC)
    [interim] = app.billing.check_thresholds()
    assert interim["number"] == "WM-000001" and interim["total"] == "7.80"  # usage so far, no flat fee
    assert app.billing.check_thresholds() == []  # nothing new unbilled
    ingest(app, [usage("acme", "2026-10-21T00:00:00Z", output=200_000)])  # +2.00 cost → +2.40 unbilled
    assert app.billing.check_thresholds() == []  # below the threshold again
    ingest(app, [usage("acme", "2026-10-22T00:00:00Z", output=300_000)])  # +3.00 → 6.00 unbilled
    [second] = app.billing.check_thresholds()
    assert (second["number"], second["total"]) == ("WM-000002", "6.00")
    clock.now = datetime(2026, 11, 2, tzinfo=UTC)
    final = app.billing.finalize("acme", "2026-10")
    # 99 + 11.50 × 1.2 − 7.80 − 6.00
    assert [ln["amount"] for ln in final["lines"]] == ["99.00", "13.80", "-7.80", "-6.00"]
    assert final["number"] == "WM-000003" and final["total"] == "99.00"


def test_unpriced_usage_is_a_counted_warning_never_zero(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    ingest(app, [usage("acme", "2026-10-05T00:00:00Z", model="mystery-9", input=10**6),
                 usage("acme", "2026-10-06T00:00:00Z", model="mystery-9", input=10**6)])
    doc = app.billing.preview("acme", "2026-10")
    assert doc["total"] == "106.80"
    [warning] = doc["warnings"]
    assert (warning["code"], warning["events"], warning["reasons"]) == ("unpriced_usage", 2, {"unknown model": 2})
    assert "2 unpriced calls not included" in doc["lines"][1]["description"]
    statement = app.billing.statement("acme", "2026-10")
    mystery = next(m for m in statement["models"] if m["model"] == "mystery-9")
    assert mystery["cost"] is None and mystery["unpriced_events"] == 2
    assert statement["usage_totals"] == {"events": 5, "unpriced_events": 2, "cost": "6.5"}


def test_statement_breaks_lines_down_per_model_and_bucket(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    statement = app.billing.statement("acme", "2026-10")
    [unit] = statement["models"]
    assert unit["buckets"] == [{"bucket": "input", "quantity": 1_500_000, "cost": "3", "unpriced_quantity": 0},
                               {"bucket": "output", "quantity": 350_000, "cost": "3.5", "unpriced_quantity": 0}]
    tokens = statement["lines"][1]
    assert [(d["bucket"], d["cost"], d["amount_exact"]) for d in tokens["details"]] == [
        ("input", "3", "3.6"), ("output", "3.5", "4.2")]
    assert statement["total"] == "106.80"


def test_invoices_run_drafts_every_customer_in_one_pass(app: Workmeter, tmp_path: Path) -> None:
    paris_customer(app, tmp_path)
    app.billing.add_customer("zed", currency="USD", timezone="America/New_York")
    app.billing.add_customer("idle", currency="USD")  # no subscription: no invoice
    app.billing.subscribe("zed", "pro", date(2026, 10, 1))
    ingest(app, [usage("zed", "2026-11-01T03:00:00Z", output=100_000)])  # Oct 31 23:00 in New York: 1.00
    docs = {d["customer"]: d for d in app.billing.run("2026-10")}
    assert set(docs) == {"acme", "zed"}
    assert docs["acme"] == app.billing.preview("acme", "2026-10")
    assert docs["zed"]["total"] == "100.20"  # 99 + 1.00 × 1.2
    finalized = app.billing.run("2026-10", finalize=True)
    assert sorted(d["number"] for d in finalized) == ["WM-000001", "WM-000002"]
    assert all(d["status"] == "finalized" for d in finalized)
    assert Decimal(finalized[0]["total"]) > 0


event_st = st.tuples(st.integers(0, 30), st.integers(0, 23), st.sampled_from(["unit-1", "mystery-9"]),
                     st.integers(0, 3_000_000), st.integers(0, 400_000))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(event_st, max_size=12), minimum=st.sampled_from(["", '[commitment]\nminimum = "150"\n']),
       credit=st.sampled_from([None, "25.55", "1000"]))
def test_generated_periods_add_up_and_preview_is_stable(template: Path, tmp_path_factory: pytest.TempPathFactory,
                                                        events: list[tuple[int, int, str, int, int]], minimum: str,
                                                        credit: str | None) -> None:
    folder = tmp_path_factory.mktemp("generated")
    for wm in open_copy(template, folder):
        wm.billing.add_customer("gen", currency="USD", timezone="Asia/Kolkata")  # +05:30: quarter-hour edges
        apply(wm, folder, plan("pro", FEE_AND_MARKUP, minimum))
        wm.billing.subscribe("gen", "pro", date(2026, 10, 1))
        if events:
            ingest(wm, [usage("gen", f"2026-10-{d + 1:02d}T{h:02d}:00:00Z", model=m, input=i, output=o)
                        for d, h, m, i, o in events])
        if credit:
            wm.billing.grant_credits("gen", credit)
        doc = wm.billing.preview("gen", "2026-10")
        assert orjson.dumps(wm.billing.preview("gen", "2026-10")) == orjson.dumps(doc)
        amounts_ = [Decimal(ln["amount"]) for ln in doc["lines"]]
        assert sum(amounts_, Decimal(0)) == Decimal(doc["subtotal"])
        assert Decimal(doc["total"]) == Decimal(doc["subtotal"]) - Decimal(doc["credits_applied"]) >= 0
        assert Decimal(doc["credits_applied"]) <= Decimal(credit or 0)
        # October in Asia/Kolkata ends at 2026-10-31T18:30Z: later events belong to November
        unpriced = sum(1 for e in events if e[2] == "mystery-9" and (e[0], e[1]) < (30, 19))
        assert sum(w["events"] for w in doc["warnings"]) == unpriced
        assert doc == wm.billing.run("2026-10")[0]
