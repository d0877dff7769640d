"""Outcome counts for invoices: the ``outcomes`` billing source of the ``per_outcome`` charge.

The billing engine hands over its segments table (``wm_customer``,
``wm_period``, ``wm_seg``, ``wm_from``, ``wm_to``; one row per plan segment of
a customer's period) and the keys its charges asked for. A key is
:func:`source_key` — ``bill|resolved|assumed|72`` or
``clawback|resolved|assumed|72`` — and its value per segment is:

* ``bill`` — outcomes of that type that became billable inside the segment
  and were not clawed back before the end of the segment's *period*;
* ``clawback`` — reopens inside the segment of outcomes billed before the
  period's start (see :mod:`workmeter.workunits.outcomes`).

One outcome timeline is derived per distinct rule, for every customer at once,
judged as of now (or the newest event when events are dated later).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import duckdb

from workmeter.core.errors import InvalidInput
from workmeter.workunits.outcomes import build_outcomes
from workmeter.workunits.settings import OutcomeRule, WorkSettings
from workmeter.workunits.sources import default_as_of, load_task_events

SOURCE_NAME = "outcomes"
KINDS = ("bill", "clawback")

_COUNTS = """
WITH p AS (
  SELECT wm_customer, wm_period, min(wm_from) AS p_from, max(wm_to) AS p_to FROM {seg} GROUP BY ALL
),
s AS (SELECT s.*, p.p_from, p.p_to FROM {seg} s JOIN p USING (wm_customer, wm_period))
SELECT s.wm_customer, s.wm_period, s.wm_seg, count(*) AS n
FROM _wm_otl o JOIN s ON o.customer = s.wm_customer AND o.occurred_at >= s.wm_from AND o.occurred_at < s.wm_to
WHERE o.outcome = $outcome AND o.kind = $kind
  AND CASE WHEN $kind = 'bill' THEN o.clawed_back_at IS NULL OR o.clawed_back_at >= s.p_to
           ELSE o.billed_at < s.p_from END
GROUP BY ALL
"""


def source_key(kind: str, outcome: str, rule: OutcomeRule) -> str:
    """The billing-source key for one count (``kind`` is ``bill`` or ``clawback``)."""
    if kind not in KINDS:
        raise InvalidInput(f"outcome count kind must be one of {', '.join(KINDS)}")
    if "|" in outcome:
        raise InvalidInput(f"outcome names cannot contain '|': {outcome!r}")
    return f"{kind}|{outcome}|{rule.mode}|{rule.assume_after_hours}"


def parse_key(key: str) -> tuple[str, str, OutcomeRule]:
    kind, outcome, mode, hours = key.split("|")
    return kind, outcome, OutcomeRule(mode=mode, assume_after_hours=Decimal(hours))  # type: ignore[arg-type]


def outcome_counts(con: duckdb.DuckDBPyConnection, segments: str,
                   keys: Sequence[str]) -> Iterable[tuple[str, str, int, str, Decimal]]:
    """Rows ``(customer, period, segment, key, count)`` for every requested key (a billing source)."""
    by_rule: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key in keys:
        kind, outcome, rule = parse_key(key)
        by_rule.setdefault((rule.mode, str(rule.assume_after_hours)), []).append((key, kind, outcome))
    as_of = default_as_of(con)
    out: list[tuple[str, str, int, str, Decimal]] = []
    for (mode, hours), wanted in sorted(by_rule.items()):
        rule = OutcomeRule(mode=mode, assume_after_hours=Decimal(hours))  # type: ignore[arg-type]
        settings = WorkSettings(default_outcome_rule=rule)
        load_task_events(con, {"as_of": as_of, "customer": None, "currency": settings.currency})
        build_outcomes(con, settings, as_of)
        for key, kind, outcome in wanted:
            rows = con.execute(_COUNTS.format(seg=segments), {"outcome": outcome, "kind": kind}).fetchall()
            out += [(c, p, int(s), key, Decimal(n)) for c, p, s, n in rows]
    return out
