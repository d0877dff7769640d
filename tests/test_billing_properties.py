"""Properties of invoice arithmetic and credit burning, over generated lines and grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from workmeter.billing.charges import Line
from workmeter.billing.credits import Grant, allocate
from workmeter.billing.documents import Draft
from workmeter.billing.periods import month_period

OCT = month_period("2026-10", "Europe/Paris")
exact_amounts = st.decimals(min_value=-10_000, max_value=10_000, places=9, allow_nan=False, allow_infinity=False)


@settings(max_examples=80, deadline=None)
@given(amounts=st.lists(exact_amounts, max_size=12), currency=st.sampled_from(["USD", "EUR", "JPY", "KWD"]),
       credit_share=st.decimals(min_value=0, max_value=1, places=2))
def test_lines_add_up_to_the_total(amounts: list[Decimal], currency: str, credit_share: Decimal) -> None:
    lines = [Line(f"c{i}", "x", Decimal(1), a, a) for i, a in enumerate(amounts)]
    draft = Draft("cus", currency, OCT, lines)
    places = {"JPY": 0, "KWD": 3}.get(currency, 2)
    quantum = Decimal(1).scaleb(-places)
    if draft.subtotal > 0:
        draft.burns = [("g", (draft.subtotal * credit_share).quantize(quantum))]
    doc = draft.to_json()
    rounded = [Decimal(ln["amount"]) for ln in doc["lines"]]
    assert rounded == [a.quantize(quantum, rounding=ROUND_HALF_EVEN) for a in amounts]
    assert sum(rounded, Decimal(0)) == Decimal(doc["subtotal"])
    assert Decimal(doc["total"]) == Decimal(doc["subtotal"]) - Decimal(doc["credits_applied"])
    assert all(len(v.split(".")[1]) == places if places else "." not in v
               for v in (doc["subtotal"], doc["credits_applied"], doc["total"]))


def grant(i: int, amount: int, priority: int, expires_days: int | None) -> Grant:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    expires = None if expires_days is None else start + timedelta(days=expires_days)
    return Grant(f"CR-{i:06d}", "cus", Decimal(amount), "USD", priority, start, expires, "", Decimal(amount))


grants_st = st.lists(st.tuples(st.integers(1, 500), st.integers(0, 3), st.none() | st.integers(1, 90)),
                     max_size=6).map(lambda gs: [grant(i, *g) for i, g in enumerate(gs)])


@settings(max_examples=100, deadline=None)
@given(grants=grants_st, amount=st.integers(0, 2000))
def test_credits_burn_in_order_and_never_more_than_owed_or_held(grants: list[Grant], amount: int) -> None:
    as_of = datetime(2026, 11, 2, tzinfo=UTC)
    burns, after = allocate(grants, Decimal(amount), OCT.start, as_of)
    used = sum((b for _, b in burns), Decimal(0))
    eligible = [g for g in grants if g.eligible(OCT.start, as_of)]
    assert used == min(Decimal(amount), sum((g.amount for g in eligible), Decimal(0)))
    by_id = {g.id: g for g in after}
    assert all(by_id[g.id].remaining >= 0 for g in grants)
    assert all(by_id[g.id].remaining == g.amount for g in grants if g not in eligible)  # expired before October
    order = sorted(eligible, key=Grant.order)
    burnt = [g.id for g in order if by_id[g.id].remaining < g.amount]
    assert burnt == [g.id for g in order[:len(burnt)]]  # a later grant burns only once earlier ones are empty
    assert all(by_id[gid].remaining == 0 for gid in burnt[:-1])


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**20, max_value=10**20))
def test_exact_strings_match_the_core_formatter(value: Decimal) -> None:
    from workmeter.billing.amounts import exact_str
    from workmeter.core.money import fmt

    assert exact_str(value) == fmt(value)
