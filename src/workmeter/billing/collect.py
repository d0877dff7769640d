"""Set-based usage collection: all customers, all segments, a few scans.

The segments to bill (customer, period, segment index, ``[from, to)`` in UTC)
enter DuckDB as one small Arrow table. Then:

1. one two-level GROUP BY over the rated events (:mod:`workmeter.billing.usage_sql`)
   gives, per segment and provider/model, bucket counts, cost (per bucket on
   request), unpriced counts per reason and the catalog versions used;
2. meters that are sums or counts over those per-model rows are derived from
   them (:mod:`workmeter.billing.derived`); one GROUP BY per event relation
   gives every other meter the plans need, as FILTERed aggregates (one scan
   for all of them);
3. each extension source registered with :func:`register_source` is called
   once with the segments table (e.g. outcomes of work units).

Nothing here loops over events in Python; the results are small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from workmeter.billing.aggregates import ModelUsage, SegmentUsage, merge_models
from workmeter.billing.amounts import ZERO
from workmeter.billing.derived import derivable, derive
from workmeter.billing.usage_sql import interval_sql, models_sql, narrow_sql, segment_models_sql, window_sql
from workmeter.meters.model import MeterDef
from workmeter.meters.service import meter_value
from workmeter.meters.sql import aggregate_sql, condition_sql
from workmeter.normalize.buckets import PRICED_BUCKETS
from workmeter.rating.aggregate import rated_sums

SEGMENTS = "_wm_segments"
SegKey = tuple[str, str, int]  # (customer, period key, segment index)

#: A source: (connection, segments table name, keys wanted) → rows (customer, period, seg, key, value).
Source = Callable[[duckdb.DuckDBPyConnection, str, Sequence[str]], Iterable[tuple[str, str, int, str, Decimal]]]
SOURCES: dict[str, Source] = {}


def register_source(name: str, fn: Source) -> None:
    """Make ``name:KEY`` quantities available to charges (``Charge.sources()``).

    ``fn`` gets the segments table (columns ``wm_customer``, ``wm_period``,
    ``wm_seg``, ``wm_from``, ``wm_to``) and must aggregate set-based.
    """
    SOURCES[name] = fn


@dataclass(frozen=True, slots=True)
class SegmentRow:
    customer: str
    period: str
    seg: int
    start: datetime
    end: datetime
    meters: tuple[MeterDef, ...] = ()  # the meters this segment's plan reads


def _segments_table(rows: Sequence[SegmentRow]) -> pa.Table:
    return pa.table({
        "wm_customer": pa.array([r.customer for r in rows], pa.string()),
        "wm_period": pa.array([r.period for r in rows], pa.string()),
        "wm_seg": pa.array([r.seg for r in rows], pa.int32()),
        "wm_from": pa.array([r.start for r in rows], pa.timestamp("us", tz="UTC")),
        "wm_to": pa.array([r.end for r in rows], pa.timestamp("us", tz="UTC")),
    })


_JOIN = f"JOIN {SEGMENTS} s ON e.subject = s.wm_customer AND e.time >= s.wm_from AND e.time < s.wm_to"


_NB = len(PRICED_BUCKETS)


def _model_row(row: tuple[Any, ...]) -> ModelUsage:
    reason, events = row[6], int(row[7])
    counts = dict(zip(PRICED_BUCKETS, (int(c or 0) for c in row[8:8 + _NB]), strict=True))
    m = ModelUsage(row[3] or "", row[4] or "", row[5], events, counts, int(row[8 + _NB] or 0))
    if reason is None:
        m.cost = row[9 + _NB] if row[9 + _NB] is not None else ZERO
        if len(row) > 12 + _NB:
            m.costs = {b: c if c is not None else ZERO for b, c in zip(PRICED_BUCKETS, row[12 + _NB:], strict=True)}
    else:
        m.unpriced_events = events
        m.unpriced_reasons = {reason: events}
        m.unpriced_buckets = dict(counts)
        m.unpriced_reasoning = m.reasoning
    return m


def collect(con: duckdb.DuckDBPyConnection, segments: Sequence[SegmentRow], sources: Sequence[str],
            rated: str | None, meter_relation: Callable[[MeterDef], str], detail: bool = True
            ) -> dict[SegKey, SegmentUsage]:
    """Usage of every segment: models always, each segment's own meters, the sources asked for."""
    out: dict[SegKey, SegmentUsage] = {(r.customer, r.period, r.seg): SegmentUsage(bucket_costs=detail)
                                       for r in segments}
    if not segments:
        return out
    con.register(SEGMENTS, _segments_table(segments))
    try:
        _collect_models(con, segments, rated, detail, out)
        _collect_meters(con, segments, meter_relation, out)
        _collect_sources(con, sources, out)
    finally:
        con.unregister(SEGMENTS)
    return out


def _collect_models(con: duckdb.DuckDBPyConnection, segments: Sequence[SegmentRow], rated: str | None,
                    detail: bool, out: dict[SegKey, SegmentUsage]) -> None:
    parts: dict[SegKey, list[ModelUsage]] = {}
    bounds = sorted({r.start for r in segments} | {r.end for r in segments})
    for row in _model_rows(con, rated, bounds, detail):
        key = (row[0], row[1], row[2])
        parts.setdefault(key, []).append(_model_row(row))
        versions = out[key].catalog_versions
        for v in (row[10 + _NB], row[11 + _NB]):
            if v is not None:
                versions.add(v)
    for key, models in parts.items():
        out[key].models = merge_models(models) if len(models) > 1 else models


def _model_rows(con: duckdb.DuckDBPyConnection, rated: str | None, bounds: list[datetime],
                detail: bool) -> list[tuple[Any, ...]]:
    """Rows of :func:`~workmeter.billing.usage_sql.models_sql` (over ``rated_events``: summed, then priced)."""
    if rated != "rated_events":
        return con.execute(models_sql(rated, SEGMENTS, bounds, detail)).fetchall()
    groups = {"subject": "e.subject", "iv": interval_sql(bounds, "e.time")}
    with rated_sums(con, groups, window_sql(bounds), bucket_costs=detail, prefix="_wm_bill") as rel:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _wm_bill_models AS {segment_models_sql(rel, SEGMENTS, detail)}")
    try:
        check, narrow = narrow_sql("_wm_bill_models")
        wide = con.execute(check).fetchone()
        return con.execute("SELECT * FROM _wm_bill_models" if wide and wide[0] else narrow).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _wm_bill_models")


def _collect_meters(con: duckdb.DuckDBPyConnection, segments: Sequence[SegmentRow],
                    relation: Callable[[MeterDef], str], out: dict[SegKey, SegmentUsage]) -> None:
    sql_meters = dict.fromkeys(m for r in segments for m in r.meters if not derivable(m))
    alias = {m: f"m{i}" for i, m in enumerate(sql_meters)}
    groups: dict[str, list[MeterDef]] = {}
    for m in alias:
        groups.setdefault(relation(m), []).append(m)
    raws: dict[SegKey, dict[str, object]] = {}
    for rel, items in groups.items():
        select = [item for m in items for item in aggregate_sql(m, alias[m], where=condition_sql(m))]
        types = sorted({m.event_type for m in items})
        sql = (f"SELECT s.wm_customer, s.wm_period, s.wm_seg, {', '.join(select)} FROM {rel} e {_JOIN} "
               f"WHERE e.type IN ({', '.join('?' for _ in types)}) GROUP BY 1, 2, 3")
        result = con.execute(sql, types)
        names = [d[0] for d in result.description]
        for row in result.fetchall():
            raws.setdefault((row[0], row[1], row[2]), {}).update(zip(names, row, strict=True))
    for r in segments:
        key = (r.customer, r.period, r.seg)
        raw = raws.get(key, {})
        usage = out[key]
        for m in r.meters:
            usage.meters[m.key] = derive(m, usage.models) if m not in alias else meter_value(m, raw, alias[m])


def _collect_sources(con: duckdb.DuckDBPyConnection, wanted: Sequence[str],
                     out: dict[SegKey, SegmentUsage]) -> None:
    by_source: dict[str, list[str]] = {}
    for item in wanted:
        name, _, key = item.partition(":")
        by_source.setdefault(name, []).append(key)
    for name, keys in sorted(by_source.items()):
        fn = SOURCES.get(name)
        if fn is None:
            raise LookupError(f"no billing source {name!r} registered")
        for customer, period, seg, key, value in fn(con, SEGMENTS, keys):
            usage = out.get((customer, period, seg))
            if usage is not None:
                usage.sources[f"{name}:{key}"] = value
