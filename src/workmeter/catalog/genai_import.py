"""Import list prices from the data shipped with the ``genai-prices`` package.

genai-prices describes each model's prices as conditional price sets (a start
date or a daily UTC window; the last active one wins), optional per-request
variants (``service_tier``, ``processing: batch``, ``speed``) and tiered
prices that reprice the whole request when total input exceeds a threshold
(strict ``>``). This module evaluates that description on every interval
between its breakpoints and emits non-overlapping :class:`PriceRow` s.

Bucket prices follow genai-prices' unit hierarchy, where a more specific
unit without its own price is billed as its parent:

* ``cache_read`` without a price → the input price (no cache discount);
* ``cache_write_5m`` → ``cache_write_5m`` price, else the generic cache-write
  price, else (no cache-write price at all) the input price;
* ``cache_write_1h`` → its own price; else, when the model has no cache-write
  price at all, the input price; else a documented :class:`BucketRule`; else
  no price (never the 5-minute price);
* ``output`` includes reasoning. Models that price reasoning or citation
  tokens separately are skipped (noted), as buckets do not carry them;
* ``web_search`` per request (``web_searches_kcount / 1000``), ``request``
  a per-call fee (``requests_kcount / 1000``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from genai_prices.data import providers as GENAI_PROVIDERS
from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    PriceVariant,
    StartDateConstraint,
    TieredPrices,
    TimeOfDateConstraint,
)

from workmeter.catalog.clauses import clause_to_json
from workmeter.catalog.model import (
    DAY_US,
    IN_MAX,
    MAX_TIME,
    MIN_TIME,
    RATED_BUCKETS,
    STANDARD,
    ModelEntry,
    PriceRow,
    ProviderEntry,
)
from workmeter.catalog.rules import Rules

#: Request-context keys whose value names the service tier served.
TIER_KEYS = ("service_tier", "processing", "speed")
#: Price keys that split output further than workmeter's buckets can.
UNSUPPORTED_OUTPUT_KEYS = ("output_reasoning_mtok", "output_citation_mtok")
_THOUSAND = Decimal(1000)

Source = Decimal | TieredPrices | None


def import_genai(rules: Rules) -> tuple[list[ProviderEntry], list[ModelEntry], list[PriceRow], list[dict[str, str]]]:
    """Every provider, model and price row in the installed genai-prices data."""
    providers, models, rows, notes = [], [], [], []
    for p in GENAI_PROVIDERS:
        providers.append(ProviderEntry(p.id, clause_to_json(p.provider_match), clause_to_json(p.model_match),
                                       tuple(p.fallback_model_providers or ())))
        for m in p.models:
            models.append(ModelEntry(p.id, m.id, clause_to_json(m.match), m.name))
            skipped = _unsupported(m)
            if skipped:
                notes.append({"provider": p.id, "model": m.id,
                              "note": f"not priced: separately priced {', '.join(skipped)} tokens"})
                continue
            rows.extend(model_rows(p.id, m, rules))
    return providers, models, rows, notes


def _price_sets(m: ModelInfo) -> list[ModelPrice]:
    plist = [m.prices] if isinstance(m.prices, ModelPrice) else [c.prices for c in m.prices]
    return plist + [v.prices for v in m.price_variants or ()]


def _unsupported(m: ModelInfo) -> list[str]:
    keys = {k for mp in _price_sets(m) for k, v in mp.__dict__.items() if v is not None}
    return [k.removesuffix("_mtok") for k in UNSUPPORTED_OUTPUT_KEYS if k in keys]


def _constraints(m: ModelInfo) -> list[Any]:
    conds = [] if isinstance(m.prices, ModelPrice) else [c.constraint for c in m.prices]
    return conds + [v.constraint for v in m.price_variants or ()]


def _tod_us(t: time) -> int:
    if t.tzinfo is not None:
        t = datetime.combine(date(2000, 1, 1), t).astimezone(UTC).time()
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _breakpoints(m: ModelInfo) -> tuple[list[date], list[int]]:
    days, tods = set(), {0}
    for c in _constraints(m):
        if isinstance(c, StartDateConstraint):
            days.add(c.start_date)
        elif isinstance(c, TimeOfDateConstraint):
            tods.update({_tod_us(c.start_time), _tod_us(c.end_time)})
    return sorted(days), sorted(tods)


def _at(day: date, tod: int) -> datetime:
    return datetime.combine(day, time.min, UTC) + timedelta(microseconds=tod)


def _tier_names(m: ModelInfo) -> list[str]:
    names = []
    for v in m.price_variants or ():
        if len(v.when) == 1:
            key, value = next(iter(v.when.items()))
            if key in TIER_KEYS and value not in ("default", STANDARD) and value not in names:
                names.append(value)
    return names


def _variant_prices(m: ModelInfo, tier: str, at: datetime) -> ModelPrice | None:
    """Standard prices overridden by every active variant for ``tier`` (first variant wins per key)."""
    matching: list[PriceVariant] = [
        v for v in m.price_variants or ()
        if len(v.when) == 1 and next(iter(v.when.items())) in {(k, tier) for k in TIER_KEYS}
        and (v.constraint is None or v.constraint.active(at))]
    if not matching:
        return None
    merged = dict(m.get_prices(at).__dict__)
    overrides: dict[str, Any] = {}
    for v in matching:
        for key, price in v.prices.__dict__.items():
            if price is not None:
                overrides.setdefault(key, price)
    merged.update(overrides)
    return ModelPrice(**merged)


def bucket_sources(provider: str, mp: ModelPrice, rules: Rules) -> dict[str, Source]:
    """Per-bucket price per million units (possibly tiered) of one genai-prices price set."""
    return fill_hierarchy(provider, given_prices(mp), rules)


def given_prices(mp: ModelPrice) -> dict[str, Source]:
    """The prices a genai-prices price set states, by bucket (``cache_write`` = the generic write)."""
    d = {k: v for k, v in mp.__dict__.items() if v is not None and not k.startswith("_")}
    return {
        "input": d.get("input_mtok"),
        "cache_read": d.get("cache_read_mtok"),
        "cache_write": d.get("cache_write_mtok"),
        "cache_write_5m": d.get("cache_write_5m_mtok"),
        "cache_write_1h": d.get("cache_write_1h_mtok"),
        "output": d.get("output_mtok"),
        "web_search": _times(d.get("web_searches_kcount"), _THOUSAND),
        "request": _times(d.get("requests_kcount"), _THOUSAND),
    }


def fill_hierarchy(provider: str, given: dict[str, Source], rules: Rules) -> dict[str, Source]:
    """Apply the unit hierarchy and documented bucket rules (see the module docstring).

    ``given`` may carry a generic ``cache_write`` price (the 5-minute write in list data).
    """
    inp = given.get("input")
    generic = given.get("cache_write")
    has_write = generic is not None or given.get("cache_write_5m") is not None
    out: dict[str, Source] = {
        "input": inp,
        "cache_read": _first(given.get("cache_read"), inp),
        "cache_write_5m": _first(given.get("cache_write_5m"), generic, inp),
        "cache_write_1h": _first(given.get("cache_write_1h"), None if has_write else inp),
        "output": given.get("output"),
        "web_search": given.get("web_search"),
        "request": given.get("request"),
    }
    for bucket, value in list(out.items()):
        rule = rules.bucket_rule(provider, bucket)
        if value is None and rule is not None and out.get(rule.of) is not None:
            out[bucket] = _times(out[rule.of], rule.factor)
    return out


def _first(*values: Source) -> Source:
    return next((v for v in values if v is not None), None)


def _times(value: Source, factor: Decimal) -> Source:
    if value is None:
        return None
    if isinstance(value, TieredPrices):
        return TieredPrices(value.base * factor, [type(t)(t.start, t.price * factor) for t in value.tiers])
    return value * factor


def split_by_input(sources: dict[str, Source]) -> Iterator[tuple[int, int, tuple[Decimal | None, ...]]]:
    """Whole-request tiers → input ranges [lo, hi) with the flat prices that apply there (strict >)."""
    starts = sorted({t.start for v in sources.values() if isinstance(v, TieredPrices) for t in v.tiers})
    bounds = [0, *(s + 1 for s in starts), IN_MAX]
    for lo, hi in itertools.pairwise(bounds):
        yield lo, hi, tuple(_flat(sources[b], lo) for b in RATED_BUCKETS)


def _flat(value: Source, total_input: int) -> Decimal | None:
    if not isinstance(value, TieredPrices):
        return value
    for tier in reversed(value.tiers):
        if total_input > tier.start:
            return tier.price
    return value.base


LIST = "genai-prices"


def _resolve(provider: str, m: ModelInfo, tier: str, at: datetime,
             rules: Rules) -> tuple[dict[str, Source], str] | None:
    """The bucket prices of ``tier`` at ``at`` and where they come from (list data or a provider rule)."""
    if tier == STANDARD:
        return bucket_sources(provider, m.get_prices(at), rules), LIST
    variant = _variant_prices(m, tier, at)
    if variant is not None:
        return bucket_sources(provider, variant, rules), LIST
    rule = rules.tier_rule(provider, tier)
    if rule is None:
        return None
    given = given_prices(m.get_prices(at))
    scaled = set(rule.buckets) | ({"cache_write"} if "cache_write_5m" in rule.buckets else set())
    return fill_hierarchy(provider, {b: (_times(v, rule.factor) if b in scaled else v)
                                     for b, v in given.items()}, rules), f"rule: {tier} = {rule.factor} × standard"


Cell = tuple[str, int, int, int, int, tuple[Decimal | None, ...], str]
Profile = tuple[Cell, ...]


def _day_profile(provider: str, m: ModelInfo, day: date, tods: list[int], tier: str, rules: Rules) -> Profile:
    """Rows of one tier on one day interval: per input range, adjacent equal windows merged."""
    cells: dict[tuple[int, int], list[tuple[int, int, tuple[Decimal | None, ...], str]]] = {}
    for a, b in itertools.pairwise([*tods, DAY_US]):
        resolved = _resolve(provider, m, tier, _at(day, a), rules)
        if resolved is None:
            continue
        sources, origin = resolved
        for lo, hi, prices in split_by_input(sources):
            spans = cells.setdefault((lo, hi), [])
            if spans and spans[-1][1] == a and spans[-1][2:] == (prices, origin):
                spans[-1] = (spans[-1][0], b, prices, origin)
            else:
                spans.append((a, b, prices, origin))
    return tuple(sorted((tier, a, b, lo, hi, p, o) for (lo, hi), spans in cells.items() for a, b, p, o in spans))


def model_rows(provider: str, m: ModelInfo, rules: Rules) -> list[PriceRow]:
    """Every row of one model: per tier, equal consecutive day intervals merged."""
    days, tods = _breakpoints(m)
    tiers = [STANDARD, *_tier_names(m)]
    tiers += [t for t in rules.tiers_for(provider) if t not in tiers]
    first = (days[0] - timedelta(days=1)) if days else date(2000, 1, 1)
    reps = [first, *days]
    starts = [MIN_TIME, *(datetime.combine(d, time.min, UTC) for d in days)]
    ends = [*starts[1:], MAX_TIME]
    rows: list[PriceRow] = []
    for tier in tiers:
        spans: list[tuple[datetime, datetime, Profile]] = []
        for rep, start, end in zip(reps, starts, ends, strict=True):
            profile = _day_profile(provider, m, rep, tods, tier, rules)
            if spans and profile == spans[-1][2]:
                spans[-1] = (spans[-1][0], end, profile)
            else:
                spans.append((start, end, profile))
        for start, end, profile in spans:
            for t, a, b, lo, hi, prices, origin in profile:
                rows.append(PriceRow(provider, m.id, t, start, end, prices, a, b, lo, hi, origin))
    return rows
