"""The catalog: genai-prices import, aliases, price books, versions, checks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from workmeter.app import Workmeter
from workmeter.catalog.aliases import resolve
from workmeter.catalog.book import parse_book
from workmeter.catalog.build import build_catalog, list_catalog
from workmeter.catalog.check import check_catalog
from workmeter.core.errors import InvalidInput
from workmeter.normalize.buckets import Buckets
from workmeter.rating.reference import rate

AT = datetime(2025, 9, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(("provider", "model", "expected"), [
    ("openai", "openai/gpt-4o", ("openai", "gpt-4o")),
    (None, "openai/gpt-4o", ("openai", "gpt-4o")),
    (None, "anthropic/claude-3-7-sonnet-20250219", ("anthropic", "claude-3-7-sonnet-latest")),
    ("anthropic", "claude-sonnet-4-5-20250929", ("anthropic", "claude-sonnet-4-5")),
    ("openai", "gpt-4o-2024-05-13", ("openai", "gpt-4o-2024-05-13")),  # its own (older, dearer) price
    ("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", ("aws", "regional.anthropic.claude-3-5-sonnet-20241022-v2:0")),
    ("aws", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", ("aws", "regional.anthropic.claude-3-5-sonnet-20241022-v2:0")),
    ("aws", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
     ("aws", "regional.anthropic.claude-3-5-sonnet-20241022-v2:0")),
    ("vertex_ai", "claude-3-5-sonnet-v2@20241022", ("google", "claude-3-5-sonnet")),
    (None, "publishers/google/models/gemini-2.5-pro", ("google", "gemini-2.5-pro")),
    ("google", "projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro", ("google", "gemini-2.5-pro")),
    ("perplexity", "perplexity/sonar", ("perplexity", "perplexity/sonar")),  # an id with a slash, as listed
    ("perplexity", "sonar", ("perplexity", "sonar")),
    ("OpenAI", "GPT-4o", ("openai", "gpt-4o")),
])
def test_aliases_resolve_to_catalog_models(provider: str | None, model: str, expected: tuple[str, str]) -> None:
    entry = resolve(list_catalog(), provider, model)
    assert entry is not None and (entry.provider, entry.model) == expected


@pytest.mark.parametrize(("provider", "model"), [
    ("openai", "gpt-9"), ("anthropic", "claude-sonnet-99"), ("nonesuch", "gpt-4o"), ("openai", ""), (None, "mystery"),
])
def test_unmatched_models_are_never_guessed(provider: str | None, model: str) -> None:
    assert resolve(list_catalog(), provider, model) is None


def test_dated_prices_become_half_open_rows() -> None:
    rows = list_catalog().rows[("openai", "o3", "standard")]
    change = datetime(2025, 6, 10, tzinfo=UTC)
    assert [r.valid_to for r in rows if r.valid_to <= change][-1] == change
    assert next(r for r in rows if r.valid_from == change).prices[0] == Decimal(2)


def test_list_catalog_rows_never_overlap_or_leave_holes() -> None:
    issues = [i for i in check_catalog(list_catalog()) if i["kind"] != "note"]
    assert issues == []


BOOK = """
[book]
name = "acme"

[[model]]
provider = "openai"
model = "ft:gpt-4o:acme"
aliases = ["ft:gpt-4o-2024-08-06:acme::x1"]
prices = { input_mtok = "3.75", output_mtok = "15", web_search_per_request = "0.02" }
[[model.tier]]
above = 100000
comparison = ">="
prices = { input_mtok = "7.5" }
[[model.window]]
start = "22:00"
end = "06:00"
prices = { output_mtok = "10" }

[[model]]
provider = "anthropic"
model = "claude-3-7-sonnet-latest"
valid_from = "2025-10-01"
prices = { input_mtok = "2", output_mtok = "10", cache_write_5m_mtok = "2.5" }

[[model]]
provider = "openai"
model = "o3"
service_tier = "flex"
prices = { input_mtok = "1", output_mtok = "4" }

[[adjustment]]
provider = "openai"
model = "gpt-4o"
discount_percent = "20"
valid_from = "2025-01-01"
valid_to = "2026-01-01"
"""


@pytest.fixture(scope="module")
def booked() -> object:
    return build_catalog([parse_book(BOOK)])[0]


def test_book_prices_custom_models_by_alias_with_tiers_and_windows(booked: object) -> None:
    cat = booked
    day = rate(cat, "openai", "ft:gpt-4o-2024-08-06:acme::x1", Buckets(input=1000, output=1000, web_search=1),  # type: ignore[arg-type]
               datetime(2025, 9, 1, 12, tzinfo=UTC))
    assert day.total == Decimal("0.00375") + Decimal("0.015") + Decimal("0.02")
    night = rate(cat, "openai", "ft:gpt-4o:acme", Buckets(output=1000), datetime(2025, 9, 1, 23, tzinfo=UTC))  # type: ignore[arg-type]
    assert night.total == Decimal("0.01")
    big = rate(cat, "openai", "ft:gpt-4o:acme", Buckets(input=100_000), AT)  # type: ignore[arg-type]
    assert big.total == Decimal("0.75")  # ">=" 100,000 reprices the whole request
    assert rate(cat, "openai", "ft:gpt-4o:acme", Buckets(input=99_999), AT).total == Decimal("0.37499625")  # type: ignore[arg-type]


def test_book_overrides_list_prices_only_inside_its_validity(booked: object) -> None:
    b = Buckets(input=1_000_000, output=1_000_000)
    before = rate(booked, "anthropic", "claude-3-7-sonnet-20250219", b, AT)  # type: ignore[arg-type]
    after = rate(booked, "anthropic", "claude-3-7-sonnet-20250219", b, datetime(2025, 10, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert (before.total, after.total) == (Decimal(18), Decimal(12))


def test_book_prices_a_service_tier_the_list_data_lacks(booked: object) -> None:
    b = Buckets(input=1_000_000, output=1_000_000)
    assert rate(list_catalog(), "openai", "o3", b, AT, "flex").reason == "service tier flex not in catalog"
    assert rate(booked, "openai", "o3", b, AT, "flex").total == Decimal(5)  # type: ignore[arg-type]
    assert rate(booked, "openai", "o3", b, AT).total == Decimal(10)  # standard untouched  # type: ignore[arg-type]


def test_discount_applies_inside_its_dates(booked: object) -> None:
    b = Buckets(input=1_000_000)
    assert rate(booked, "openai", "gpt-4o", b, AT).total == Decimal(2)  # type: ignore[arg-type]
    assert rate(booked, "openai", "gpt-4o", b, datetime(2026, 1, 1, tzinfo=UTC)).total == Decimal("2.5")  # type: ignore[arg-type]


def test_book_errors_name_the_section() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_book('[[model]]\nprovider = "x"\nmodel = "y"\nprices = { input_mtok = [0.5] }\n', name="b")
    assert "must be a decimal number" in err.value.message and err.value.where == "b:4"
    assert "[[model]] #1 > [model.prices]: 'input_mtok'" in err.value.message
    with pytest.raises(InvalidInput):
        parse_book('[[model]]\nprovider = "x"\nmodel = "y"\nprices = { inptu_mtok = "1" }\n')


def test_sync_versions_are_immutable_and_content_addressed(wm: Workmeter, tmp_path: Path) -> None:
    first = wm.catalog.sync()
    again = wm.catalog.sync()
    assert first.created and not again.created and again.version == first.version
    book = tmp_path / "acme.toml"
    book.write_text(BOOK)
    booked = wm.catalog.sync([book])
    assert booked.created and booked.version != first.version
    assert wm.catalog.sync().version == booked.version  # books are kept by later syncs
    names = [v["version"] for v in wm.catalog.versions()]
    assert names == [first.version, booked.version]
    assert wm.catalog.load(first.version).rows == list_catalog().rows
