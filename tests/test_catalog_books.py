"""Price-book mistakes: every one is a clear error naming the file, the line and the table — never a crash."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from test_qa_cli_errors import Invoke, invoke  # noqa: F401 (fixture)
from workmeter.catalog.book import parse_book
from workmeter.catalog.build import build_catalog
from workmeter.core.errors import InvalidInput
from workmeter.normalize.buckets import Buckets
from workmeter.rating.reference import rate

HEAD = '[book]\nname = "acme"\n\n[[model]]\nprovider = "my-lab"\nmodel = "llama"\nprices = { input_mtok = "1" }\n'


def error(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        parse_book(text, name="acme", file="acme.toml")
    return err.value


@pytest.mark.parametrize(("tail", "line", "expected"), [
    ('[[model.tier]]\ncomparison = ">="\nprices = { input_mtok = "2" }\n', 8,
     "[[model]] #1 > [[model.tier]] #1: missing key 'above'"),
    ('[[model.tier]]\nabove = 1000\ncomparison = "=>"\n', 10,
     "[[model]] #1 > [[model.tier]] #1: comparison must be \">\" or \">=\", not '=>'"),
    ('[[model.tier]]\nabove = "1000"\n', 9, "'above' must be the tier's threshold, a whole number of input tokens, "
                                            "not the string '1000'"),
    ('[[model.window]]\nstart = "22:00"\nprices = { input_mtok = "0.5" }\n', 8,
     "[[model]] #1 > [[model.window]] #1: missing key 'end'"),
    ('[[model.window]]\nstart = "22:00"\nend = "25:00"\n', 10, "'end' must be a UTC time of day like \"16:30\""),
    ('[[model.tier]]\nabove = 10\nprices = { input_mtok = "2", outptu_mtok = "3" }\n', 10,
     "unknown key 'outptu_mtok'; did you mean 'output_mtok'?"),
    ('[[model.tier]]\nabove = 10\nprices = { input_mtok = "-2" }\n', 10, "a price cannot be negative"),
    ('[[model.tier]]\nabove = 10\nprices = { input_mtok = true }\n', 10,
     "'input_mtok' must be a decimal number (e.g. \"1.25\"), not the boolean true"),
    ('[[tier_rule]]\nprovider = "openai"\ntier = "flex"\nfactor = "0.5"\nbuckets = ["input", "outptu"]\n', 12,
     "[[tier_rule]] #1: unknown bucket 'outptu'"),
    ('[[bucket_rule]]\nprovider = "anthropic"\nbucket = "cache_write_1h"\nof = "input"\n', 8,
     "[[bucket_rule]] #1: missing key 'factor'"),
    ('[[adjustment]]\ndiscount_percent = "10"\nmarkup_percent = "5"\n', 10,
     "exactly one of discount_percent or markup_percent"),
    ('[[adjustment]]\nprovider = "openai"\nvalid_from = "2026-01-01"\nvalid_to = "2025-01-01"\ndiscount_percent = "5"\n', 11,
     "valid_to must be after valid_from"),
    ('[[modle]]\nprovider = "x"\n', 8, "top level: unknown key 'modle'; did you mean 'model'?"),
])
def test_a_book_mistake_names_file_line_and_table(tail: str, line: int, expected: str) -> None:
    err = error(HEAD + tail)
    assert err.where == f"acme.toml:{line}"
    assert err.message.startswith(f"acme.toml:{line}: ") and expected in err.message


def test_every_broken_table_is_listed_in_one_error() -> None:
    err = error('[[model]]\nmodel = "a"\n\n[[model]]\nprovider = "x"\nmodel = "b"\n'
                '[[model.tier]]\nabove = 5\n[[model.tier]]\nabove = 6\ncomparison = ">="\n'
                '[[adjustment]]\nprovider = "x"\n')
    assert err.message.splitlines() == [
        "acme.toml:1: [[model]] #1: missing key 'provider'",
        "acme.toml:10: [[model]] #2 > [[model.tier]] #2: starts at the same input size (6 tokens) as "
        "[[model.tier]] #1",  # > 5 and >= 6 are the same tier
        "acme.toml:12: [[adjustment]] #1: an adjustment needs exactly one of discount_percent or markup_percent",
    ]


def test_a_toml_float_price_is_read_from_its_exact_text() -> None:
    """``0.1`` in TOML is one tenth here, not the binary float 0.1000000000000000055…"""
    book = parse_book('[[model]]\nprovider = "my-lab"\nmodel = "llama"\n'
                      'prices = { input_mtok = 0.1, output_mtok = 3.0, web_search_per_request = 1e-2 }\n'
                      '[[adjustment]]\nmarkup_percent = 12.5\n')
    assert book.models[0].prices == {"input": Decimal("0.1"), "output": Decimal("3.0"),
                                     "web_search": Decimal("0.01") * 1_000_000}
    catalog = build_catalog([book])[0]
    priced = rate(catalog, "my-lab", "llama", Buckets(input=1_000_000, output=1_000_000),
                  datetime(2026, 1, 1, tzinfo=UTC))
    assert priced.total == Decimal("3.1") * Decimal("1.125")  # 0.1 + 3.0, marked up 12.5%


def test_cli_sync_prints_the_book_error_and_exits_2(invoke: Invoke, tmp_path: Path) -> None:  # noqa: F811
    book = tmp_path / "acme.toml"
    book.write_text(HEAD + '[[model.tier]]\nprices = { input_mtok = "2" }\n')
    result = invoke("prices", "sync", "--book", str(book))
    assert result.exit_code == 2
    assert f"{book}:8: [[model]] #1 > [[model.tier]] #1: missing key 'above'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
