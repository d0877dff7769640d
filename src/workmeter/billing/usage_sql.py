"""The per-model usage query: rated events → (segment, provider, model, unpriced reason) rows.

Two levels, so the rating arithmetic stays fused with the first aggregation
(a join between the rating view and its aggregate makes DuckDB compute every
price path of every event; measured 5–10× slower):

1. ``rated_events`` over ``[first boundary, last boundary)`` grouped by
   subject, *interval* and model, where the intervals are cut at every
   segment boundary of the run (all customers' period starts and ends and
   plan-change dates, in UTC — a few per timezone). The interval of an event
   is a balanced CASE over the sorted boundaries: no join.
2. the small result joined to the segments on subject and interval start.
   A segment's ``[from, to)`` is a union of whole intervals, so every event
   lands in exactly the segment whose range contains it.

Over ``rated_events`` itself, level 1 is :func:`workmeter.rating.aggregate.rated_sums`:
the events are summed per subject, interval and price row and only those sums
are priced (the same exact numbers, without pricing each event).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from workmeter.normalize.buckets import PRICED_BUCKETS

_B = PRICED_BUCKETS


def ts(moment: datetime) -> str:
    return f"TIMESTAMPTZ '{moment.astimezone(UTC).isoformat()}'"


def interval_sql(bounds: Sequence[datetime], column: str = "time") -> str:
    """The start of the interval ``[b_i, b_i+1)`` containing ``column`` (a balanced CASE)."""

    def node(lo: int, hi: int) -> str:
        if lo == hi:
            return ts(bounds[lo])
        mid = (lo + hi + 1) // 2
        return f"CASE WHEN {column} < {ts(bounds[mid])} THEN {node(lo, mid - 1)} ELSE {node(mid, hi)} END"

    return node(0, len(bounds) - 2)


def window_sql(bounds: Sequence[datetime]) -> str:
    """Events from the first boundary to the last."""
    return f"time >= {ts(bounds[0])} AND time < {ts(bounds[-1])}"


#: The count columns of :func:`segment_models_sql`, in order.
COUNTS: tuple[str, ...] = ("events", *_B, "reasoning")


def segment_models_sql(rated: str, segments: str, detail: bool) -> str:
    """The columns of :func:`models_sql` (named) from ``rated_sums`` rows grouped by ``subject`` and ``iv``."""
    costs = "".join(f", sum(a.cost_{b}) AS cost_{b}" for b in _B) if detail else ""
    sums = ", ".join(f'sum(a."{b}") AS "{b}"' for b in (*_B, "reasoning"))
    return (f"SELECT s.wm_customer, s.wm_period, s.wm_seg, a.provider, a.model, "
            f"any_value(a.catalog_model) AS catalog_model, a.unpriced_reason, sum(a.events) AS events, {sums}, "
            f"sum(a.cost) AS cost, min(a.catalog_version) AS v1, max(a.catalog_version) AS v2{costs} "
            f"FROM {rated} a JOIN {segments} s ON a.subject = s.wm_customer AND a.iv >= s.wm_from AND a.iv < s.wm_to "
            f"GROUP BY 1, 2, 3, 4, 5, 7")


def narrow_sql(table: str) -> tuple[str, str]:
    """(does any count of ``table`` pass BIGINT?, ``table`` with the counts as BIGINT: cheaper to fetch)."""
    wide = " OR ".join(f'NOT "{c}" BETWEEN -9223372036854775808 AND 9223372036854775807' for c in COUNTS)
    cast = ", ".join(f'"{c}"::BIGINT AS "{c}"' for c in COUNTS)
    return f"SELECT coalesce(bool_or({wide}), FALSE) FROM {table}", f"SELECT * REPLACE ({cast}) FROM {table}"


def models_sql(rated: str | None, segments: str, bounds: Sequence[datetime], detail: bool) -> str:
    """Columns: customer, period, seg, provider, model, catalog_model, unpriced_reason, events,
    the six bucket counts, reasoning, cost, min and max catalog version[, six bucket costs]."""
    if rated is None:  # no rating available: every call is unpriced, with that reason
        first = ("SELECT subject, {iv} AS iv, provider, model, NULL AS cm, 'no rating view configured' AS reason, "
                 "count(*) AS n, {sums}, sum(reasoning) AS reasoning, NULL::DECIMAL(38, 18) AS cost, "
                 "NULL AS v1, NULL AS v2{costs} FROM live_events WHERE type = 'llm.usage' AND {where} "
                 "GROUP BY 1, 2, 3, 4")
        cost_cols = "".join(f", NULL::DECIMAL(38, 18) AS cost_{b}" for b in _B) if detail else ""
    else:
        first = ("SELECT subject, {iv} AS iv, provider, model, any_value(catalog_model) AS cm, "
                 "unpriced_reason AS reason, count(*) AS n, {sums}, sum(reasoning) AS reasoning, "
                 "sum(cost) AS cost, min(catalog_version) AS v1, max(catalog_version) AS v2{costs} "
                 f"FROM {rated} WHERE {{where}} GROUP BY 1, 2, 3, 4, 6")
        cost_cols = "".join(f", sum(cost_{b}) AS cost_{b}" for b in _B) if detail else ""
    where = window_sql(bounds)
    inner = first.format(iv=interval_sql(bounds), sums=", ".join(f'sum("{b}") AS "{b}"' for b in _B),
                         costs=cost_cols, where=where)
    outer_costs = "".join(f", sum(a.cost_{b})" for b in _B) if detail else ""
    outer_sums = ", ".join(f'sum(a."{b}")' for b in _B)
    return (f"WITH a AS ({inner}) "
            f"SELECT s.wm_customer, s.wm_period, s.wm_seg, a.provider, a.model, any_value(a.cm), a.reason, "
            f"sum(a.n), {outer_sums}, sum(a.reasoning), sum(a.cost), "
            f"min(a.v1), max(a.v2){outer_costs} "
            f"FROM a JOIN {segments} s ON a.subject = s.wm_customer AND a.iv >= s.wm_from AND a.iv < s.wm_to "
            f"GROUP BY 1, 2, 3, 4, 5, 7")
