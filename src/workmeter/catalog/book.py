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

Validation (:func:`parse_book`): every key must be known for its table,
``provider``/``model`` are required, a tier needs ``above`` (a whole number)
and ``comparison`` is ``">"`` or ``">="``, a window needs ``start`` and
``end``, buckets must exist, prices are non-negative exact decimals. Errors
name the file, the line and the table path (see :mod:`.book_read`).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any, TypeVar

from workmeter.catalog.book_read import BookReader, Path, Stop
from workmeter.catalog.model import RATED_BUCKETS, STANDARD, canonical_tier
from workmeter.catalog.rules import BucketRule, Rules, TierRule
from workmeter.core.errors import InvalidInput

T = TypeVar("T")

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


SECTIONS = ("book", "model", "adjustment", "tier_rule", "bucket_rule")
_MODEL_KEYS = ("provider", "model", "aliases", "service_tier", "valid_from", "valid_to", "prices", "tier", "window")
_ADJUSTMENT_KEYS = ("provider", "model", "service_tier", "discount_percent", "markup_percent",
                    "valid_from", "valid_to")
#: ``comparison`` → whether the threshold itself is inside the tier.
COMPARISONS: dict[str, bool] = {">": False, ">=": True}
_BUCKETS = ", ".join(RATED_BUCKETS)
_SYNTAX_LINE = re.compile(r"at line (\d+)")


def _prices(r: BookReader, raw: dict[str, Any], path: Path) -> dict[str, Decimal]:
    table = r.table(raw, path, "prices")
    where = (*path, "prices")
    r.known(table, where, PRICE_KEYS)
    out: dict[str, Decimal] = {}
    for key in table:
        bucket, factor = PRICE_KEYS[key]
        value = r.decimal(table, where, key)
        assert value is not None
        if value < 0:
            r.fail(where, key, f"{key!r}: a price cannot be negative ({value})")
        out[bucket] = value * factor
    return out


def _span(r: BookReader, raw: dict[str, Any], path: Path) -> tuple[datetime | None, datetime | None]:
    start, end = r.instant(raw, path, "valid_from"), r.instant(raw, path, "valid_to")
    if start is not None and end is not None and start >= end:
        r.fail(path, "valid_to", "valid_to must be after valid_from (validity is [valid_from, valid_to))")
    return start, end


def _tier(r: BookReader, raw: dict[str, Any], path: Path) -> BookTier:
    r.known(raw, path, ("above", "comparison", "prices"))
    above = r.count(raw, path, "above", "the tier's threshold, a whole number of input tokens")
    comparison = r.text(raw, path, "comparison", default=">")
    if comparison not in COMPARISONS:
        r.fail(path, "comparison", f"comparison must be \">\" or \">=\", not {comparison!r}")
    return BookTier(above, COMPARISONS[comparison], _prices(r, raw, path))


def _window(r: BookReader, raw: dict[str, Any], path: Path) -> BookWindow:
    r.known(raw, path, ("start", "end", "prices"))
    start, end = r.clock(raw, path, "start"), r.clock(raw, path, "end")
    if start == end:
        r.fail(path, "end", f"start and end are both {start.isoformat('minutes')}: the window is empty")
    return BookWindow(start, end, _prices(r, raw, path))


def _model(r: BookReader, raw: dict[str, Any], path: Path) -> BookModel:
    r.known(raw, path, _MODEL_KEYS)
    provider = r.text(raw, path, "provider", required=True)
    model = r.text(raw, path, "model", required=True)
    aliases = r.strings(raw, path, "aliases") or []
    tier = r.text(raw, path, "service_tier", default=STANDARD)
    start, end = _span(r, raw, path)
    prices = _prices(r, raw, path)
    tiers = tuple(_tier(r, t, (*path, "tier", i)) for i, t in enumerate(r.tables(raw, path, "tier")))
    windows = tuple(_window(r, w, (*path, "window", i)) for i, w in enumerate(r.tables(raw, path, "window")))
    seen: dict[int, int] = {}
    for i, t in enumerate(tiers):
        lowest = t.threshold if t.inclusive else t.threshold + 1
        if lowest in seen:
            r.fail((*path, "tier", i), "above", f"starts at the same input size ({lowest:,} tokens) as "
                                                f"[[model.tier]] #{seen[lowest] + 1}")
        seen[lowest] = i
    return BookModel(str(provider).lower(), str(model).lower(), tuple(a.lower() for a in aliases),
                     canonical_tier(tier), start, end, prices, tiers, windows)


def _adjustment(r: BookReader, raw: dict[str, Any], path: Path) -> Adjustment:
    r.known(raw, path, _ADJUSTMENT_KEYS)
    given = [k for k in ("discount_percent", "markup_percent") if k in raw]
    if len(given) != 1:
        r.fail(path, given[-1] if given else None, "an adjustment needs exactly one of discount_percent "
                                                   "or markup_percent")
    percent = r.decimal(raw, path, given[0])
    assert percent is not None
    if percent < 0 or (given[0] == "discount_percent" and percent > 100):
        r.fail(path, given[0], f"{given[0]!r} must be between 0 and 100, not {percent}"
               if given[0] == "discount_percent" else f"{given[0]!r} cannot be negative ({percent})")
    factor = 1 - percent / 100 if given[0] == "discount_percent" else 1 + percent / 100
    start, end = _span(r, raw, path)
    provider, model, tier = (str(r.text(raw, path, k, default="*")).lower()
                             for k in ("provider", "model", "service_tier"))
    return Adjustment(provider, model, tier, factor, start, end)


def _bucket(r: BookReader, path: Path, key: str, bucket: str) -> str:
    if bucket not in RATED_BUCKETS:
        r.fail(path, key, f"unknown bucket {bucket!r}; buckets are {_BUCKETS}")
    return bucket


def _factor(r: BookReader, raw: dict[str, Any], path: Path) -> Decimal:
    factor = r.decimal(raw, path, "factor")
    assert factor is not None
    if factor < 0:
        r.fail(path, "factor", f"'factor' cannot be negative ({factor})")
    return factor


def _tier_rule(r: BookReader, raw: dict[str, Any], path: Path) -> TierRule:
    r.known(raw, path, ("provider", "tier", "factor", "buckets", "source"))
    provider = str(r.text(raw, path, "provider", required=True)).lower()
    tier = canonical_tier(r.text(raw, path, "tier", required=True))
    factor = _factor(r, raw, path)
    buckets = tuple(_bucket(r, path, "buckets", b) for b in r.strings(raw, path, "buckets") or RATED_BUCKETS)
    return TierRule(provider, tier, factor, buckets, r.text(raw, path, "source", default="") or "")


def _bucket_rule(r: BookReader, raw: dict[str, Any], path: Path) -> BucketRule:
    r.known(raw, path, ("provider", "bucket", "of", "factor", "source"))
    provider = str(r.text(raw, path, "provider", required=True)).lower()
    bucket = _bucket(r, path, "bucket", str(r.text(raw, path, "bucket", required=True)))
    of = _bucket(r, path, "of", str(r.text(raw, path, "of", required=True)))
    if of == bucket:
        r.fail(path, "of", f"a bucket cannot be priced as a multiple of itself ({bucket!r})")
    return BucketRule(provider, bucket, of, _factor(r, raw, path), r.text(raw, path, "source", default="") or "")


def _each(r: BookReader, data: dict[str, Any], key: str, parse: Callable[[BookReader, dict[str, Any], Path], T]
          ) -> list[T]:
    """Parse every ``[[key]]`` table; a table with an error is recorded and skipped."""
    try:
        items = r.tables(data, (), key)
    except Stop:
        return []
    out: list[T] = []
    for i, raw in enumerate(items):
        try:
            out.append(parse(r, raw, (key, i)))
        except Stop:
            pass
    return out


def _book_name(r: BookReader, data: dict[str, Any]) -> str | None:
    try:
        r.known(data, (), SECTIONS)
        table = r.table(data, (), "book")
        r.known(table, ("book",), ("name",))
        return r.text(table, ("book",), "name")
    except Stop:
        return None


def parse_book(text: str, *, name: str | None = None, file: str | None = None) -> Book:
    """Parse and validate a price book; raise :class:`InvalidInput` listing every table's first error.

    Errors name ``file`` (default ``name``), the line and the table path. TOML
    floats (``input_mtok = 3.0``) are read from their exact text, never
    through binary floating point; strings are the recommended spelling.
    """
    where = file or name or "book"
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        match = _SYNTAX_LINE.search(str(exc))
        at = f"{where}:{match.group(1)}" if match else where
        raise InvalidInput(f"{at}: not valid TOML: {exc}", where=at) from None
    r = BookReader(text, where)
    book_name = _book_name(r, data) or name or "book"
    models = _each(r, data, "model", _model)
    adjustments = _each(r, data, "adjustment", _adjustment)
    rules = Rules(tuple(_each(r, data, "tier_rule", _tier_rule)), tuple(_each(r, data, "bucket_rule", _bucket_rule)))
    r.raise_errors()
    return Book(book_name, text, models, adjustments, rules)
