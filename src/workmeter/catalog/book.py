"""Price books: a user's TOML file of contract prices, discounts and rules.

A book takes precedence over list prices and is stored, text and hash, in
the catalog version it is part of. Prices are strings (exact decimals)::

    [book]
    name = "acme-contract"

    [[model]]                      # a custom / fine-tuned model, or a negotiated card
    provider = "openai"
    model = "ft:gpt-4o:acme"       # catalog id; matched case-insensitively
    aliases = ["ft:gpt-4o-2024-08-06:acme::abc"]
    valid_from = "2026-01-01"      # optional, half-open [valid_from, valid_to), UTC
    service_tier = "standard"      # optional (default standard)
    prices = { input_mtok = "3.75", output_mtok = "15", cache_read_mtok = "1.875",
               web_search_per_request = "0.01" }
    [[model.tier]]                 # whole-request tier on total input (incl. cache)
    above = 200000                 # threshold
    comparison = ">"               # ">" (default) or ">="
    prices = { input_mtok = "7.5", output_mtok = "22.5" }
    [[model.window]]               # a daily UTC window (may cross midnight)
    start = "16:30"
    end = "00:30"
    prices = { input_mtok = "1.875", output_mtok = "7.5" }

    [[adjustment]]                 # discount or markup on matching rows
    provider = "anthropic"         # "*" for all
    model = "*"
    discount_percent = "10"        # or markup_percent
    valid_from = "2026-01-01"

    [[tier_rule]] / [[bucket_rule]]   # see workmeter.catalog.rules
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from typing import Any

from workmeter.catalog.model import RATED_BUCKETS, STANDARD, canonical_tier
from workmeter.catalog.rules import BucketRule, Rules, TierRule
from workmeter.core.errors import InvalidInput, InvalidMoney
from workmeter.core.money import to_decimal
from workmeter.core.timeutil import parse_instant

#: Book price keys → (bucket, factor to price per million units).
PRICE_KEYS: dict[str, tuple[str, Decimal]] = {
    "input_mtok": ("input", Decimal(1)),
    "cache_read_mtok": ("cache_read", Decimal(1)),
    "cache_write_5m_mtok": ("cache_write_5m", Decimal(1)),
    "cache_write_1h_mtok": ("cache_write_1h", Decimal(1)),
    "output_mtok": ("output", Decimal(1)),
    "web_search_per_request": ("web_search", Decimal(1_000_000)),
    "request_fee": ("request", Decimal(1_000_000)),
}


@dataclass(frozen=True)
class BookTier:
    threshold: int
    inclusive: bool
    prices: dict[str, Decimal]


@dataclass(frozen=True)
class BookWindow:
    start: time
    end: time
    prices: dict[str, Decimal]


@dataclass(frozen=True)
class BookModel:
    provider: str
    model: str
    aliases: tuple[str, ...]
    service_tier: str
    valid_from: Any
    valid_to: Any
    prices: dict[str, Decimal]
    tiers: tuple[BookTier, ...] = ()
    windows: tuple[BookWindow, ...] = ()


@dataclass(frozen=True)
class Adjustment:
    provider: str
    model: str
    service_tier: str
    factor: Decimal
    valid_from: Any
    valid_to: Any


@dataclass
class Book:
    name: str
    text: str
    models: list[BookModel] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)
    rules: Rules = field(default_factory=Rules)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _where(name: str, section: str, i: int) -> str:
    return f"{name}: [[{section}]] #{i + 1}"


def _prices(raw: dict[str, Any], where: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for key, value in raw.items():
        if key not in PRICE_KEYS:
            raise InvalidInput(f"unknown price key {key!r}; use {', '.join(PRICE_KEYS)}", where=where)
        bucket, factor = PRICE_KEYS[key]
        try:
            out[bucket] = to_decimal(value, field=key) * factor
        except InvalidMoney as exc:
            raise InvalidMoney(exc.message, where=where) from None
    return out


def _instant(value: Any, where: str) -> Any:
    return None if value is None else parse_instant(str(value), field=where)


def _time(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a time like 16:30", where=where) from None


def _model(raw: dict[str, Any], where: str) -> BookModel:
    for key in ("provider", "model"):
        if not raw.get(key):
            raise InvalidInput(f"missing {key}", where=where)
    tiers = tuple(BookTier(int(t["above"]), t.get("comparison", ">") == ">=", _prices(t.get("prices", {}), where))
                  for t in raw.get("tier", []))
    windows = tuple(BookWindow(_time(w["start"], where), _time(w["end"], where), _prices(w.get("prices", {}), where))
                    for w in raw.get("window", []))
    return BookModel(str(raw["provider"]).lower(), str(raw["model"]).lower(),
                     tuple(str(a).lower() for a in raw.get("aliases", [])),
                     canonical_tier(raw.get("service_tier", STANDARD)),
                     _instant(raw.get("valid_from"), where), _instant(raw.get("valid_to"), where),
                     _prices(raw.get("prices", {}), where), tiers, windows)


def _adjustment(raw: dict[str, Any], where: str) -> Adjustment:
    if "discount_percent" in raw:
        factor = 1 - to_decimal(raw["discount_percent"], field=where) / 100
    elif "markup_percent" in raw:
        factor = 1 + to_decimal(raw["markup_percent"], field=where) / 100
    else:
        raise InvalidInput("an adjustment needs discount_percent or markup_percent", where=where)
    return Adjustment(str(raw.get("provider", "*")).lower(), str(raw.get("model", "*")).lower(),
                      str(raw.get("service_tier", "*")).lower(), factor,
                      _instant(raw.get("valid_from"), where), _instant(raw.get("valid_to"), where))


def _rules(data: dict[str, Any], name: str) -> Rules:
    tiers = tuple(TierRule(str(r["provider"]).lower(), canonical_tier(r["tier"]),
                           to_decimal(r["factor"], field=_where(name, "tier_rule", i)),
                           tuple(r.get("buckets", RATED_BUCKETS)), str(r.get("source", "")))
                  for i, r in enumerate(data.get("tier_rule", [])))
    buckets = tuple(BucketRule(str(r["provider"]).lower(), str(r["bucket"]), str(r["of"]),
                               to_decimal(r["factor"], field=_where(name, "bucket_rule", i)),
                               str(r.get("source", "")))
                    for i, r in enumerate(data.get("bucket_rule", [])))
    named = [(r.provider, b) for r in tiers for b in r.buckets]
    named += [(r.provider, b) for r in buckets for b in (r.bucket, r.of)]
    for provider, bucket in named:
        if bucket not in RATED_BUCKETS:
            raise InvalidInput(f"unknown bucket {bucket!r}", where=f"{name}: rule for {provider}")
    return Rules(tiers, buckets)


def parse_book(text: str, *, name: str | None = None) -> Book:
    """Parse a price book; errors name the file and section."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"not a valid TOML price book: {exc}", where=name) from None
    book_name = str(data.get("book", {}).get("name") or name or "book")
    models = [_model(m, _where(book_name, "model", i)) for i, m in enumerate(data.get("model", []))]
    adjustments = [_adjustment(a, _where(book_name, "adjustment", i))
                   for i, a in enumerate(data.get("adjustment", []))]
    return Book(book_name, text, models, adjustments, _rules(data, book_name))
