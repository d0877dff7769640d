"""Rated cost per group, summed before it is scaled: the fast path for big reports.

``SELECT sum(cost) FROM rated_events GROUP BY …`` gives the same numbers; this
query gets them faster on millions of events because cost is linear in the
quantities: for events on the pico-dollar fast path (see
:mod:`workmeter.rating.store`) it sums the exact BIGINT dot products (as
HUGEINT) and scales the sum once, and adds the DECIMAL cost of the other
events. ``cost`` is NULL when a group has no priced event; ``unpriced_events``
counts the rest (never $0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workmeter.rating.store import FAST_DOT, SLOW_SUM, rated_base
from workmeter.store.duckdb import Database

_PICO = "0.000000000001000000::DECIMAL(20, 18)"


def cost_by_sql(groups: Sequence[str], where: str = "TRUE", run_id: int | None = None) -> str:
    """SQL: ``groups`` (SQL expressions over rated_events columns, aliased g0, g1, …) → events, cost,
    unpriced_events; ``where`` filters events (``?`` parameters allowed)."""
    cards = "rate_cards_current" if run_id is None else f"(SELECT * FROM rate_cards WHERE run_id = {int(run_id)})"
    keys = ", ".join(f"{g} AS g{i}" for i, g in enumerate(groups))
    return f"""
SELECT {keys}, count(*) AS events,
       CASE WHEN count(*) FILTER (WHERE unpriced_reason IS NULL) > 0 THEN
         coalesce(sum(CASE WHEN unpriced_reason IS NULL AND fast THEN {FAST_DOT} END)::DECIMAL(38, 0) * {_PICO}, 0)
         + coalesce(sum(CASE WHEN unpriced_reason IS NULL AND NOT fast THEN {SLOW_SUM} END), 0) END AS cost,
       count(*) FILTER (WHERE unpriced_reason IS NOT NULL) AS unpriced_events
FROM ({rated_base(cards)}) r
WHERE {where}
GROUP BY ALL ORDER BY ALL"""


def cost_by(db: Database, groups: Sequence[str], where: str = "TRUE", params: Sequence[Any] = (),
            run_id: int | None = None) -> list[dict[str, Any]]:
    """Rows ``{g0, …, events, cost, unpriced_events}`` (call ``Rater.refresh()`` first for new keys)."""
    cur = db.read()
    cur.execute(cost_by_sql(groups, where, run_id), list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
