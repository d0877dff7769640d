"""Meters answered from the per-model aggregates, without another scan of the ledger.

A ``sum`` or ``count`` meter over ``llm.usage`` whose property is a usage
column, ``total_tokens`` or ``cost``, and whose filters name only ``model``
and ``provider``, is a sum over the segment's :class:`ModelUsage` rows — the
same numbers the SQL meter would give (the model filter matches the model as
sent or its catalog name, case-insensitively; the provider filter is exact
or a glob). Built-in meters and typical plan meters take this path; any
other meter is computed in SQL.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from decimal import Decimal

from workmeter.billing.aggregates import ModelUsage
from workmeter.billing.amounts import add
from workmeter.meters.model import TOTAL_TOKENS, USAGE_PROPERTIES, MeterDef
from workmeter.normalize.buckets import TOKEN_BUCKETS

_FIELDS = frozenset({"model", "provider"})


def derivable(meter: MeterDef) -> bool:
    return (meter.event_type == "llm.usage" and meter.aggregation in ("sum", "count")
            and (meter.aggregation == "count" or meter.prop in (*USAGE_PROPERTIES, TOTAL_TOKENS, "cost"))
            and all(name in _FIELDS for name, _ in meter.filters))


def _matches(meter: MeterDef, m: ModelUsage) -> bool:
    for name, values in meter.filters:
        if name == "model" and not m.matches(values):
            return False
        if name == "provider" and not any(fnmatch.fnmatchcase(m.provider, v) for v in values):
            return False
    return True


def derive(meter: MeterDef, models: Sequence[ModelUsage]) -> Decimal | None:
    """The meter's value over one segment (None: a cost sum with no priced call)."""
    rows = [m for m in models if _matches(meter, m)]
    if meter.aggregation == "count":
        return Decimal(sum(m.events for m in rows))
    if meter.prop == "cost":
        priced = [m for m in rows if m.events > m.unpriced_events]
        return add(*(m.cost for m in priced)) if priced else None
    if meter.prop == TOTAL_TOKENS:
        return Decimal(sum(m.buckets[b] for m in rows for b in TOKEN_BUCKETS))
    if meter.prop == "reasoning":
        return Decimal(sum(m.reasoning for m in rows))
    assert meter.prop is not None
    return Decimal(sum(m.buckets[meter.prop] for m in rows))
