"""Charge models on hand-built usage: every expected amount worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workmeter.billing.aggregates import ModelUsage, SegmentUsage
from workmeter.billing.charges import (
    CHARGE_TYPES,
    Charge,
    ChargeContext,
    Line,
    Spec,
    charge_types,
    parse_charge,
    register_charge,
)
from workmeter.billing.charges.graduated import graduated_amount
from workmeter.billing.charges.volume import volume_amount
from workmeter.billing.periods import Segment, month_period
from workmeter.meters.model import FieldError

D = Decimal
OCT = month_period("2026-10", "UTC")
FULL = Segment(OCT, OCT.first, OCT.after)
TIERS = [{"up_to": 1000, "unit_price": "0"}, {"up_to": 100000, "unit_price": "0.002"}, {"unit_price": "0.001"}]


def ctx(meters: dict[str, Any] | None = None, models: list[ModelUsage] | None = None,
        segment: Segment = FULL, prior: tuple[Line, ...] = ()) -> ChargeContext:
    usage = SegmentUsage(models=models or [], meters={k: D(v) for k, v in (meters or {}).items()})
    return ChargeContext("USD", segment, usage, prior)


def total(spec: dict[str, Any], c: ChargeContext) -> Decimal:
    return sum((ln.amount_exact for ln in parse_charge(spec).lines(c)), D(0))


def model(name: str, cost: dict[str, str] | None = None, **buckets: int) -> ModelUsage:
    m = ModelUsage("anthropic", name, events=1)
    m.buckets.update(buckets)
    for b, v in (cost or {}).items():
        m.costs[b] = D(v)
    m.cost = sum(m.costs.values(), D(0))
    return m


def test_registry_lists_every_builtin_type_and_stays_open() -> None:
    assert set(charge_types()) >= {"flat", "per_unit", "graduated", "volume", "package", "percentage", "markup",
                                   "per_token", "discount"}
    with pytest.raises(FieldError, match="unknown charge type 'per_widget'"):
        parse_charge({"key": "x", "type": "per_widget"})

    @register_charge
    class PerWidget(Charge):
        type = "per_widget"
        fields = frozenset({"price"})

        def __init__(self, key: str, name: str, spec: Spec) -> None:
            super().__init__(key, name, spec)
            self.price = spec.decimal("price")

        def lines(self, ctx: ChargeContext) -> list[Line]:
            return [self.line(self.name, D(2), self.price, self.price * 2)]

    try:
        assert total({"key": "w", "type": "per_widget", "price": "1.5"}, ctx()) == D(3)
        with pytest.raises(TypeError, match="already registered"):
            register_charge(type("Other", (Charge,), {"type": "per_widget"}))
    finally:
        CHARGE_TYPES.pop("per_widget")


def test_graduated_example_from_the_plan() -> None:
    spec = {"key": "calls", "type": "graduated", "meter": "m", "tiers": TIERS}
    # 1,000 × 0 + 99,000 × 0.002 + 50,000 × 0.001 = 0 + 198 + 50
    assert total(spec, ctx({"m": 150000})) == D(248)
    lines = parse_charge(spec).lines(ctx({"m": 150000}))
    assert [(ln.quantity, ln.unit_price) for ln in lines] == [(D(1000), D(0)), (D(99000), D("0.002")),
                                                              (D(50000), D("0.001"))]


@pytest.mark.parametrize(("units", "graduated", "volume"), [
    (0, "0", "0"), (1000, "0", "0"), (1001, "0.002", "2.002"), (100000, "198", "200"),
    (100001, "198.001", "100.001"),
])
def test_graduated_and_volume_at_tier_boundaries(units: int, graduated: str, volume: str) -> None:
    g = {"key": "g", "type": "graduated", "meter": "m", "tiers": TIERS}
    v = {"key": "v", "type": "volume", "meter": "m", "tiers": TIERS}
    assert total(g, ctx({"m": units})) == D(graduated)
    assert total(v, ctx({"m": units})) == D(volume)


def test_volume_flat_price_and_included_allowance() -> None:
    spec = {"key": "v", "type": "volume", "meter": "m", "included": 100,
            "tiers": [{"up_to": 10, "unit_price": "1", "flat_price": "5"}, {"unit_price": "0.5", "flat_price": "2"}]}
    assert total(spec, ctx({"m": 100})) == D(0)          # all included
    assert total(spec, ctx({"m": 110})) == D(15)         # 10 × 1 + 5
    assert total(spec, ctx({"m": 111})) == D("7.5")      # 11 × 0.5 + 2


@pytest.mark.parametrize(("units", "packages"), [(0, 0), (1, 1), (100, 1), (101, 2), (250, 3)])
def test_package_rounds_started_packages_up(units: int, packages: int) -> None:
    spec = {"key": "p", "type": "package", "meter": "m", "package_size": 100, "package_price": "5.00"}
    [line] = parse_charge(spec).lines(ctx({"m": units}))
    assert (line.quantity, line.amount_exact) == (D(packages), D(5 * packages))


def test_per_unit_after_included_allowance() -> None:
    spec = {"key": "u", "type": "per_unit", "meter": "m", "unit_price": "0.25", "included": 10}
    assert total(spec, ctx({"m": 14})) == D(1)
    assert total(spec, ctx({"m": 3})) == D(0)


def test_flat_fee_prorates_by_day() -> None:
    spec = {"key": "fee", "type": "flat", "amount": "99.00"}
    assert total(spec, ctx()) == D(99)
    half = Segment(OCT, date(2026, 10, 17), OCT.after)  # 15 of 31 days
    [line] = parse_charge(spec).lines(ctx(segment=half))
    assert line.amount_exact == D("47.903225806451612903")  # 99 × 15 / 31 to 18 places
    assert "15 of 31 days" in line.description
    no_prorate = {**spec, "prorate": False, "billing": "in_arrears"}
    assert total(no_prorate, ctx(segment=half)) == D(99)


def test_markup_and_percentage_on_rated_cost() -> None:
    models = [model("claude-sonnet-4-5", {"input": "3", "output": "7.5"}, input=10**6, output=500_000),
              model("claude-haiku-4-5", {"input": "1"}, input=10**6)]
    markup = {"key": "tokens", "type": "markup", "percent": "20"}
    assert total(markup, ctx(models=models)) == D("13.8")   # 11.5 × 1.2
    passthrough = {"key": "t", "type": "percentage", "percent": "100", "models": ["*sonnet*"]}
    [line] = parse_charge(passthrough).lines(ctx(models=models))
    assert line.amount_exact == D("10.5")
    assert sum(d["amount_exact"] for d in line.details) == line.amount_exact
    assert {(d["model"], d["bucket"]) for d in line.details} == {("claude-sonnet-4-5", "input"),
                                                                  ("claude-sonnet-4-5", "output")}


def test_per_token_price_for_a_model_group() -> None:
    models = [model("claude-sonnet-4-5-20250929", input=1_234_567, output=10), model("claude-haiku-4-5", input=10**6)]
    spec = {"key": "sonnet", "type": "per_token", "models": ["*sonnet*"], "prices": {"input": "4"}}
    [line] = parse_charge(spec).lines(ctx(models=models))
    assert (line.quantity, line.unit_price, line.amount_exact) == (D("1.234567"), D(4), D("4.938268"))
    free = {**spec, "included": {"input": 234_567}}
    assert total(free, ctx(models=models)) == D(4)


def test_discount_percent_fixed_and_end_date() -> None:
    prior = (Line("fee", "Fee", D(1), D(100), D(100), "flat"), Line("use", "Use", D(1), D(50), D(50), "usage"))
    pct = {"key": "d", "type": "discount", "percent": "10", "applies_to": ["fee"]}
    assert total(pct, ctx(prior=prior)) == D(-10)
    fixed = {"key": "d", "type": "discount", "amount": "500"}
    assert total(fixed, ctx(prior=prior)) == D(-150)  # never more than the lines it reduces
    ended = {"key": "d", "type": "discount", "percent": "10", "ends": date(2026, 10, 1)}
    assert total(ended, ctx(prior=prior)) == D(0)
    mid = {"key": "d", "type": "discount", "percent": "31", "ends": "2026-10-11"}  # 10 of 31 days
    assert total(mid, ctx(prior=prior)) == D(-15)  # 150 × 31% × 10/31


@pytest.mark.parametrize(("spec", "field"), [
    ({"key": "a", "type": "flat"}, "amount"),
    ({"key": "a", "type": "flat", "amount": 9.99}, "amount"),
    ({"key": "a", "type": "flat", "amount": "1", "amout": "2"}, "amout"),
    ({"key": "a", "type": "graduated", "meter": "m", "tiers": [{"up_to": 5, "unit_price": "1"}]}, "tiers[0].up_to"),
    ({"key": "a", "type": "volume", "meter": "m", "tiers": [{"up_to": 5, "unit_price": "1"}, {"up_to": 3,
                                                              "unit_price": "1"}, {"unit_price": "1"}]}, "tiers[1].up_to"),
    ({"key": "a", "type": "package", "meter": "m", "package_size": 0, "package_price": "1"}, "package_size"),
    ({"key": "a", "type": "per_token", "prices": {"thinking": "1"}}, "prices.thinking"),
    ({"key": "a", "type": "discount", "percent": "5", "amount": "5"}, "percent"),
])
def test_bad_fields_are_named(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_charge(spec)
    assert err.value.field == field


tier_lists = st.lists(st.integers(1, 500), min_size=1, max_size=4, unique=True).map(sorted)
prices = st.decimals(min_value=0, max_value=5, places=3)


@settings(max_examples=60, deadline=None)
@given(bounds=tier_lists, data=st.data())
def test_graduated_charges_each_unit_at_its_tier_price(bounds: list[int], data: st.DataObject) -> None:
    unit_prices = [data.draw(prices) for _ in range(len(bounds) + 1)]
    raw = [{"up_to": b, "unit_price": str(p)} for b, p in zip(bounds, unit_prices, strict=False)]
    raw.append({"unit_price": str(unit_prices[-1])})
    tiers = parse_charge({"key": "g", "type": "graduated", "meter": "m", "tiers": raw}).tiers  # type: ignore[attr-defined]
    units = data.draw(st.integers(0, bounds[-1] + 50))
    brute = sum((unit_prices[next((i for i, b in enumerate(bounds) if u <= b), len(bounds))]
                 for u in range(1, units + 1)), D(0))
    assert graduated_amount(D(units), tiers) == brute
    same = [{"up_to": b, "unit_price": "0.5"} for b in bounds] + [{"unit_price": "0.5"}]
    flat_tiers = parse_charge({"key": "v", "type": "volume", "meter": "m", "tiers": same}).tiers  # type: ignore[attr-defined]
    assert volume_amount(D(units), flat_tiers) == graduated_amount(D(units), flat_tiers) == D(units) * D("0.5")
