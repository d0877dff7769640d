"""Money is exact: Decimal only, floats refused, one rounding place."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workmeter.core.errors import InvalidMoney
from workmeter.core.money import fmt, round_money, to_decimal

SRC = Path(__file__).resolve().parents[1] / "src" / "workmeter"
MONEY_PACKAGES = ("core", "catalog", "rating", "billing", "meters", "workunits", "control", "ledger")


@pytest.mark.parametrize("bad", [0.1, 1.0, float("nan"), True, None, [1], "abc", "Infinity"])
def test_money_constructor_refuses_floats_and_junk(bad: object) -> None:
    with pytest.raises(InvalidMoney):
        to_decimal(bad)


def test_money_constructor_accepts_exact_inputs() -> None:
    assert to_decimal("0.1") + to_decimal("0.2") == Decimal("0.3")
    assert to_decimal(3) == Decimal(3)


@pytest.mark.parametrize(("exact", "currency", "rounded"), [
    ("0.125", "USD", "0.12"), ("0.135", "USD", "0.14"), ("-0.125", "USD", "-0.12"),
    ("12.5", "JPY", "12"), ("13.5", "JPY", "14"), ("1.0005", "KWD", "1.000"),
])
def test_rounding_is_half_even_to_the_minor_unit(exact: str, currency: str, rounded: str) -> None:
    assert round_money(Decimal(exact), currency) == Decimal(rounded)


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=18, min_value=-10**12, max_value=10**12))
def test_rounding_error_is_at_most_half_a_cent(amount: Decimal) -> None:
    assert abs(round_money(amount) - amount) <= Decimal("0.005")
    assert Decimal(fmt(amount)) == amount


def test_no_float_calls_in_money_packages() -> None:
    """A guard: no float() conversion or float annotation in packages that touch money.

    ``isinstance(x, float)`` (to refuse floats) is allowed, and so is a line marked
    ``# not money`` (a clock reading, a sampling knob).
    """
    offenders = []
    for pkg in MONEY_PACKAGES:
        for path in (SRC / pkg).rglob("*.py"):
            text = path.read_text()
            exempt = {i for i, line in enumerate(text.splitlines(), 1) if "# not money" in line}
            tree = ast.parse(text)
            allowed = {id(arg) for node in ast.walk(tree)
                       if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                       and node.func.id == "isinstance" for arg in ast.walk(node.args[1])}
            for node in ast.walk(tree):
                if (isinstance(node, ast.Name) and node.id == "float" and id(node) not in allowed
                        and node.lineno not in exempt):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_fmt_keeps_every_digit_of_a_long_amount() -> None:
    value = Decimal("466050694388.4117829848502706664430502771045341200794789086929")
    assert fmt(value) == "466050694388.4117829848502706664430502771045341200794789086929"
