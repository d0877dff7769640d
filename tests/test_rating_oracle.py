"""Oracle: workmeter's total equals ``genai_prices.calc_price`` exactly.

300 generated (model, usage, time) cases across the major providers, with
request sizes on both sides of long-context thresholds and times on both
sides of dated price changes. Usage is converted to genai-prices' inclusive
convention (``input_tokens`` counts cache reads and writes). Cases where
workmeter is deliberately stricter are not generated: a bucket without a
price (workmeter: unpriced; genai-prices: $0) and 1-hour writes on a model
with only a 5-minute write price (genai-prices bills them at the 5-minute price).
"""

from __future__ import annotations

import random
import warnings
from datetime import UTC, datetime, timedelta

import genai_prices
from genai_prices import Usage
from genai_prices.data_snapshot import get_snapshot

from workmeter.catalog.build import list_catalog
from workmeter.normalize.buckets import Buckets
from workmeter.rating.card import card
from workmeter.rating.reference import find_row, rate

PROVIDERS = ("anthropic", "openai", "google", "deepseek", "x-ai", "mistral", "aws", "groq", "cohere",
             "perplexity", "together", "fireworks")
CASES = 300


def _refs() -> list[tuple[str, str]]:
    """(provider, model id) pairs that genai-prices resolves back to the same model."""
    snap, out = get_snapshot(), []
    for pid in PROVIDERS:
        for m in list_catalog().models.get(pid, []):
            try:
                _, found = snap.find_provider_model(m.model, None, pid, None)
            except LookupError:
                continue
            if found.id == m.model and list_catalog().rows.get((pid, m.model, "standard")):
                out.append((pid, m.model))
    return out


def _case(rnd: random.Random, refs: list[tuple[str, str]]) -> tuple[str, str, Buckets, datetime]:
    provider, model = rnd.choice(refs)
    at = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(seconds=rnd.randrange(0, 3 * 365 * 86400))
    big = rnd.random() < 0.3
    b = Buckets(input=rnd.randrange(0, 260_000 if big else 5000), cache_read=rnd.choice((0, rnd.randrange(0, 60_000))),
                cache_write_5m=rnd.choice((0, rnd.randrange(0, 20_000))),
                cache_write_1h=rnd.choice((0, 0, rnd.randrange(0, 20_000))),
                output=rnd.randrange(0, 4000), web_search=rnd.choice((0, 0, 0, rnd.randrange(1, 5))))
    row = find_row(card([(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), list_catalog())],
                        provider, model, None), at, b)
    assert row is not None and row.reason is None
    prices = dict(zip(("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "web_search"),
                      row.prices[:6], strict=True))
    keep = {k: (getattr(b, k) if prices[k] is not None else 0) for k in prices}
    stated = genai_prices.data_snapshot.get_snapshot().find_provider_model(model, None, provider, None)[1]
    listed = stated.get_prices(at).__dict__
    if listed.get("cache_write_1h_mtok") is None and listed.get("cache_write_mtok") is not None:
        keep["cache_write_1h"] = 0
    return provider, model, Buckets(**keep), at


def _genai_total(provider: str, model: str, b: Buckets, at: datetime) -> object:
    usage = Usage(input_tokens=b.total_input, cache_read_tokens=b.cache_read,
                  cache_write_tokens=b.cache_write_5m + b.cache_write_1h, cache_write_1h_tokens=b.cache_write_1h,
                  output_tokens=b.output, web_searches=b.web_search)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return genai_prices.calc_price(usage, model, provider_id=provider, genai_request_timestamp=at).total_price


def test_totals_equal_genai_prices_exactly() -> None:
    rnd = random.Random(20251126)
    refs = _refs()
    assert len(refs) > 100
    mismatches, tiers_seen = [], 0
    for _ in range(CASES):
        provider, model, b, at = _case(rnd, refs)
        ours = rate(list_catalog(), provider, model, b, at)
        theirs = _genai_total(provider, model, b, at)
        tiers_seen += b.total_input > 200_000
        if ours.total != theirs:
            mismatches.append((provider, model, b, at.isoformat(), ours.total, theirs))
    assert mismatches == []
    assert tiers_seen > 20
