"""The reference rater on the providers' published prices (USD per million tokens).

Every expected total is computed by hand from the list price in the comment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from workmeter.catalog.build import list_catalog
from workmeter.normalize import normalize
from workmeter.normalize.buckets import Buckets
from workmeter.rating.reference import RatedEvent, rate

AT = datetime(2025, 9, 1, 12, tzinfo=UTC)


def quote(provider: str, model: str, fmt: str, usage: dict[str, Any], at: datetime = AT,
          tier: str | None = None) -> RatedEvent:
    return rate(list_catalog(), provider, model, normalize(fmt, usage), at, tier)


def lines(result: RatedEvent) -> dict[str, tuple[int, Decimal]]:
    return {ln.bucket: (ln.quantity, ln.amount) for ln in result.lines}


def test_anthropic_input_tokens_exclude_cache_writes() -> None:
    # claude-3-7-sonnet: $3 input, $3.75 5-minute write, $15 output
    r = quote("anthropic", "claude-3-7-sonnet-20250219", "anthropic",
              {"input_tokens": 3, "cache_creation_input_tokens": 12304, "output_tokens": 550})
    assert r.total == Decimal("0.054399")  # not 0.091311 (cache writes counted twice)
    assert lines(r) == {"input": (3, Decimal("0.000009")), "cache_write_5m": (12304, Decimal("0.04614")),
                        "output": (550, Decimal("0.00825"))}


def test_openai_cached_tokens_are_a_subset_of_prompt_tokens() -> None:
    # gpt-4o: $2.50 input, $1.25 cached input, $10 output; 1,500 of 2,000 prompt tokens cached
    r = quote("openai", "gpt-4o", "openai-chat",
              {"prompt_tokens": 2000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 1500}})
    assert lines(r) == {"input": (500, Decimal("0.00125")), "cache_read": (1500, Decimal("0.001875")),
                        "output": (100, Decimal("0.001"))}
    assert r.total == Decimal("0.004125")


def test_one_hour_cache_writes_are_priced_as_one_hour_writes() -> None:
    # claude-3-7-sonnet: 5-minute write $3.75, 1-hour write $6
    r = quote("anthropic", "claude-3-7-sonnet-20250219", "anthropic",
              {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 3000,
               "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000}})
    assert lines(r) == {"cache_write_5m": (1000, Decimal("0.00375")), "cache_write_1h": (2000, Decimal("0.012"))}


def test_reasoning_is_inside_openai_output_but_added_for_gemini_thoughts() -> None:
    # o3 from 2025-06-10: $8 output. 1,000 completion tokens of which 600 reasoning: 1,000 billed.
    r = quote("openai", "o3", "openai-chat", {"prompt_tokens": 0, "completion_tokens": 1000,
                                              "completion_tokens_details": {"reasoning_tokens": 600}})
    assert lines(r) == {"output": (1000, Decimal("0.008"))}
    # gemini-2.5-pro (≤200k): $10 output. 400 candidates + 600 thoughts: 1,000 billed.
    g = quote("google", "gemini-2.5-pro", "gemini",
              {"promptTokenCount": 0, "candidatesTokenCount": 400, "thoughtsTokenCount": 600})
    assert lines(g) == {"output": (1000, Decimal("0.01"))}


@pytest.mark.parametrize(("total_input", "input_price", "output_price"), [
    (200_000, Decimal(3), Decimal(15)),       # at the threshold: base prices
    (200_001, Decimal(6), Decimal("22.5")),   # one token over (strict >): the whole request reprices
])
def test_long_context_cliff_counts_cache_tokens(total_input: int, input_price: Decimal,
                                                output_price: Decimal) -> None:
    # claude-sonnet-4-5: $3/$15 up to 200k total input, $6/$22.50 above, cache reads count toward it
    b = Buckets(input=total_input - 150_000, cache_read=150_000, output=1000)
    r = rate(list_catalog(), "anthropic", "claude-sonnet-4-5-20250929", b, AT)
    got = {ln.bucket: ln.unit_price_per_million for ln in r.lines}
    assert got["input"] == input_price and got["output"] == output_price
    assert got["cache_read"] == input_price / 10


@pytest.mark.parametrize(("at", "total"), [
    (datetime(2025, 6, 9, 23, 59, 59, tzinfo=UTC), Decimal(50)),  # $10 in + $40 out
    (datetime(2025, 6, 10, 0, 0, tzinfo=UTC), Decimal(10)),       # $2 in + $8 out
])
def test_dated_price_change_uses_the_event_time(at: datetime, total: Decimal) -> None:
    r = rate(list_catalog(), "openai", "o3", Buckets(input=1_000_000, output=1_000_000), at)
    assert r.total == total


@pytest.mark.parametrize("at", [datetime(2025, 9, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)])
def test_batch_is_half_price(at: datetime) -> None:
    # Before 2026-10-14 the list data has no batch variant (documented 50% rule); after, the list variant.
    b = Buckets(input=100_000, output=100_000)
    std = rate(list_catalog(), "anthropic", "claude-sonnet-4-5", b, at)
    batch = rate(list_catalog(), "anthropic", "claude-sonnet-4-5", b, at, "batch")
    assert std.total == Decimal("1.8") and batch.total == Decimal("0.9")  # $3 + $15 per million
    gpt = rate(list_catalog(), "openai", "gpt-4o", b, at, "batch")
    assert gpt.total == Decimal("0.625")  # ($2.50 + $10) per million, halved


def test_web_search_is_priced_per_request() -> None:
    # Anthropic web search: $10 per 1,000 searches
    r = quote("anthropic", "claude-3-7-sonnet-20250219", "anthropic",
              {"input_tokens": 0, "output_tokens": 0, "server_tool_use": {"web_search_requests": 3}})
    assert lines(r) == {"web_search": (3, Decimal("0.03"))}


def test_unknown_model_is_unpriced_with_a_reason() -> None:
    r = rate(list_catalog(), "openai", "gpt-unknown-9", Buckets(input=10, output=10), AT)
    assert r.status == "unpriced" and r.total is None and r.reason == "unknown model"
    assert r.as_dict() == {"status": "unpriced", "reason": "unknown model"}


def test_tier_the_list_data_lacks_is_unpriced() -> None:
    r = rate(list_catalog(), "openai", "o3", Buckets(input=10, output=10), AT, "flex")
    assert r.reason == "service tier flex not in catalog"


def test_off_peak_window_crossing_midnight() -> None:
    # deepseek-chat: $0.27 input 00:30–16:30 UTC, $0.135 off-peak 16:30–00:30
    b = Buckets(input=1_000_000)
    prices = {t: rate(list_catalog(), "deepseek", "deepseek-chat", b, datetime(2025, 9, 1, *t, tzinfo=UTC)).total
              for t in ((0, 29), (0, 30), (16, 29), (16, 30), (23, 59))}
    assert prices == {(0, 29): Decimal("0.135"), (0, 30): Decimal("0.27"), (16, 29): Decimal("0.27"),
                      (16, 30): Decimal("0.135"), (23, 59): Decimal("0.135")}
