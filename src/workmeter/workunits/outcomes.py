"""Outcomes: when a task's result becomes billable, and when it is clawed back.

The rules (per outcome type, :class:`~workmeter.workunits.settings.OutcomeRule`; which
rule judges a customer's outcome — the customer's plan's, the configured one or
the default — is settled in :mod:`workmeter.workunits.plan_rules`):

1. A ``task.outcome`` event with ``"confirmed": true`` (or ``"verified": true``)
   is billable at its own time.
2. In ``assumed`` mode an unconfirmed outcome is billable at the first instant
   the task has been quiet for ``assume_after_hours``: the first activity at or
   after the outcome (task event or usage call) followed by no activity for N
   hours, plus N hours. A ``"reopened"`` outcome inside that wait cancels it.
   In ``confirmed`` mode an unconfirmed outcome never bills by itself.
3. Per (task, outcome type) the billable instants and the reopens form one
   timeline; a bill counts only when the outcome is not billed already, a
   reopen counts (as a *clawback*) only when it is. So a task bills an outcome
   at most once at any time, and net billing per task is 0 or 1.
4. Only instants at or before ``as_of`` exist; later ones are *pending*.

For one invoice period ``[start, end)``:

* :func:`billable_outcomes` — outcomes that became billable in the period and
  were not clawed back inside the same period;
* :func:`clawbacks` — reopens in the period of outcomes billed in an *earlier*
  period (a credit line on this period's invoice, however old the bill).

A bill and its clawback inside one period cancel out and appear in neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from workmeter.workunits.plan_rules import RuleRow
from workmeter.workunits.settings import REOPENED, WorkSettings

_CANDIDATES = f"""
CREATE OR REPLACE TEMP TABLE _wm_cand AS
WITH o AS (
  SELECT t.customer, t.task_id, t.outcome, t.time, t.seq, t.value, t.currency, t.confirmed,
         coalesce(c.mode, r.mode, $def_mode) AS mode, coalesce(c.after_s, r.after_s, $def_after) AS after_s
  FROM _wm_tev t LEFT JOIN _wm_rules r ON r.outcome = t.outcome
  LEFT JOIN _wm_crules c ON c.customer = t.customer AND c.outcome = t.outcome AND t.time >= c.valid_from
                        AND (c.valid_to IS NULL OR t.time < c.valid_to)
  WHERE t.type = 'task.outcome' AND t.outcome IS NOT NULL AND t.outcome <> '{REOPENED}'
),
pending AS (SELECT * FROM o WHERE NOT confirmed AND mode = 'assumed'),
ptasks AS (SELECT DISTINCT customer, task_id FROM pending),
act AS (
  SELECT customer, task_id, time,
         lead(time) OVER (PARTITION BY customer, task_id ORDER BY time) AS next_t
  FROM (SELECT customer, task_id, time FROM _wm_tev SEMI JOIN ptasks USING (customer, task_id)
        UNION ALL
        SELECT u.subject, u.task_id, u.time FROM {{ledger}} u
        SEMI JOIN ptasks p ON p.customer = u.subject AND p.task_id = u.task_id
        WHERE u.type = 'llm.usage' AND u.time <= $as_of)
),
quiet AS (
  SELECT p.customer, p.task_id, p.seq, min(a.time) + to_seconds(p.after_s) AS billable_at
  FROM pending p JOIN act a ON a.customer = p.customer AND a.task_id = p.task_id AND a.time >= p.time
  WHERE a.next_t IS NULL OR a.next_t > a.time + to_seconds(p.after_s)
  GROUP BY p.customer, p.task_id, p.seq, p.after_s
),
b AS (
  SELECT o.*, CASE WHEN o.confirmed THEN o.time ELSE q.billable_at END AS billable_at
  FROM o LEFT JOIN quiet q USING (customer, task_id, seq)
  WHERE o.confirmed OR o.mode = 'assumed'
)
SELECT b.*, EXISTS (
    SELECT 1 FROM _wm_tev r WHERE r.customer = b.customer AND r.task_id = b.task_id
      AND r.type = 'task.outcome' AND r.outcome = '{REOPENED}' AND r.time > b.time AND r.time <= b.billable_at
  ) AS cancelled
FROM b
"""

_TIMELINE = f"""
CREATE OR REPLACE TEMP TABLE _wm_otl AS
WITH b AS (
  SELECT customer, task_id, outcome, billable_at AS occurred_at, seq, 'bill' AS kind, value, currency, time AS outcome_at
  FROM _wm_cand WHERE NOT cancelled AND billable_at <= $as_of
),
r AS (
  SELECT k.customer, k.task_id, k.outcome, t.time AS occurred_at, t.seq, 'clawback' AS kind,
         NULL::DECIMAL(38, 18) AS value, NULL::VARCHAR AS currency, t.time AS outcome_at
  FROM (SELECT DISTINCT customer, task_id, outcome FROM b) k
  JOIN _wm_tev t ON t.customer = k.customer AND t.task_id = k.task_id
  WHERE t.type = 'task.outcome' AND t.outcome = '{REOPENED}'
),
s AS (
  SELECT *, lag(kind) OVER (PARTITION BY customer, task_id, outcome ORDER BY occurred_at, seq) AS prev_kind
  FROM (SELECT * FROM b UNION ALL SELECT * FROM r)
),
kept AS (
  SELECT * EXCLUDE (prev_kind) FROM s
  WHERE (kind = 'bill' AND prev_kind IS DISTINCT FROM 'bill') OR (kind = 'clawback' AND prev_kind = 'bill')
)
SELECT *,
       CASE WHEN kind = 'clawback' THEN lag(occurred_at) OVER w END AS billed_at,
       CASE WHEN kind = 'bill' THEN lead(occurred_at) OVER w END AS clawed_back_at
FROM kept WINDOW w AS (PARTITION BY customer, task_id, outcome ORDER BY occurred_at, seq)
"""

#: Per task: the latest outcome event, its value (when not reopened and in the report currency),
#: and how many outcome types are billed (net) as of the report instant.
_TASK_OUTCOME = f"""
CREATE OR REPLACE TEMP TABLE _wm_tout AS
WITH last AS (
  SELECT customer, task_id,
         arg_max(outcome, ord) AS outcome, max(time) AS outcome_at,
         arg_max(confirmed, ord) AS confirmed,
         arg_max(CASE WHEN currency = $currency THEN value END, ord) AS value
  FROM _wm_tev WHERE type = 'task.outcome' AND outcome IS NOT NULL GROUP BY ALL
),
billed AS (
  SELECT customer, task_id, count(*) FILTER (WHERE kind = 'bill') AS outcomes_billed
  FROM (SELECT customer, task_id, outcome, arg_max(kind, (occurred_at, seq)) AS kind FROM _wm_otl GROUP BY ALL)
  GROUP BY ALL
)
SELECT l.customer, l.task_id, l.outcome, l.outcome_at, l.confirmed,
       CASE WHEN l.outcome <> '{REOPENED}' THEN l.value END AS value,
       coalesce(b.outcomes_billed, 0) AS outcomes_billed
FROM last l LEFT JOIN billed b USING (customer, task_id)
"""


def build_outcomes(con: duckdb.DuckDBPyConnection, settings: WorkSettings, as_of: object,
                   ledger: str = "live_events", customer_rules: Sequence[RuleRow] = ()) -> None:
    """From ``_wm_tev`` (and usage times in ``ledger``): ``_wm_cand`` (candidates), ``_wm_otl`` (timeline)
    and ``_wm_tout`` (per task). ``customer_rules`` (see :mod:`.plan_rules`) come before ``settings``."""
    con.execute("CREATE OR REPLACE TEMP TABLE _wm_rules (outcome VARCHAR, mode VARCHAR, after_s BIGINT)")
    rows = [(k, r.mode, r.assume_after_seconds) for k, r in settings.outcome_rules.items()]
    if rows:
        con.executemany("INSERT INTO _wm_rules VALUES (?, ?, ?)", rows)
    con.execute("CREATE OR REPLACE TEMP TABLE _wm_crules (customer VARCHAR, outcome VARCHAR, "
                "valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ, mode VARCHAR, after_s BIGINT)")
    if customer_rules:
        con.executemany("INSERT INTO _wm_crules VALUES (?, ?, ?, ?, ?, ?)", [list(r) for r in customer_rules])
    default = settings.default_outcome_rule
    con.execute(_CANDIDATES.replace("{ledger}", ledger),
                {"def_mode": default.mode, "def_after": default.assume_after_seconds, "as_of": as_of})
    con.execute(_TIMELINE, {"as_of": as_of})
    con.execute(_TASK_OUTCOME, {"currency": settings.currency})


@dataclass(frozen=True, slots=True)
class OutcomeLine:
    """One billing-relevant outcome moment of one task."""

    customer: str
    task_id: str
    outcome: str
    kind: str                   # "bill" or "clawback"
    occurred_at: datetime       # when it became billable / when it was reopened
    billed_at: datetime | None  # for a clawback: when the outcome it reverses was billed
    value: Decimal | None       # the outcome's declared value (bills only)

    def as_dict(self) -> dict[str, Any]:
        return {"customer": self.customer, "task_id": self.task_id, "outcome": self.outcome,
                "kind": self.kind, "occurred_at": self.occurred_at.isoformat(),
                "billed_at": self.billed_at.isoformat() if self.billed_at else None, "value": self.value}


_LINE_COLS = "customer, task_id, outcome, kind, occurred_at, billed_at, value"


def billable_outcomes(con: duckdb.DuckDBPyConnection, start: object, end: object,
                      outcome: str | None = None) -> list[OutcomeLine]:
    """Bills in ``[start, end)`` not clawed back before ``end`` (needs :func:`build_outcomes`)."""
    rows = con.execute(
        f"SELECT {_LINE_COLS} FROM _wm_otl WHERE kind = 'bill' AND occurred_at >= $start AND occurred_at < $end "
        "AND ($outcome IS NULL OR outcome = $outcome) AND (clawed_back_at IS NULL OR clawed_back_at >= $end) "
        "ORDER BY occurred_at, customer, task_id, outcome", {"start": start, "end": end, "outcome": outcome}).fetchall()
    return [OutcomeLine(*r) for r in rows]


def clawbacks(con: duckdb.DuckDBPyConnection, start: object, end: object,
              outcome: str | None = None) -> list[OutcomeLine]:
    """Reopens in ``[start, end)`` of outcomes billed before ``start`` (needs :func:`build_outcomes`)."""
    rows = con.execute(
        f"SELECT {_LINE_COLS} FROM _wm_otl WHERE kind = 'clawback' AND occurred_at >= $start AND occurred_at < $end "
        "AND billed_at < $start AND ($outcome IS NULL OR outcome = $outcome) "
        "ORDER BY occurred_at, customer, task_id, outcome", {"start": start, "end": end, "outcome": outcome}).fetchall()
    return [OutcomeLine(*r) for r in rows]
