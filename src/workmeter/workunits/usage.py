"""Rated usage per (customer, task[, model]) in one pass over the ledger: ``_wm_um``.

The numbers are those of ``SELECT … sum(cost) FROM rated_events GROUP BY
subject, task_id, model``, computed without the view's per-event DECIMAL
arithmetic: each usage event is joined once to its price row (the rating
package's lookup rows and join, :mod:`workmeter.rating.store`) and priced as
one BIGINT dot product of its quantities and the row's whole pico-dollar
prices; those are summed as HUGEINT and scaled to dollars once per group.
An event whose row has prices finer than a pico-dollar (or whose product
overflows BIGINT) adds the view's own DECIMAL cost instead. So every group's
cost equals the Σ of the view's per-event costs to the last digit, and an
event the view leaves unpriced (reason not NULL) is counted in
``unpriced_calls`` and adds nothing; a group with no priced event has a
NULL cost, as ``sum`` over the view gives.

Without ``by_model`` the groups are (customer, task) and ``model`` is NULL:
a quarter of the groups when tasks use four models, which is what makes the
pass cheap on tens of millions of events (the per-model figures of a task —
its models and its main model — are then not known).

The pass reads ``events`` when no correction is recorded — ``live_events``
is then exactly ``events`` — and ``live_events`` otherwise; the caller holds
one snapshot (:func:`workmeter.rating.aggregate.snapshot`) around the check
and the pass, so the choice and the read see the same ledger.
"""

from __future__ import annotations

from typing import Any

import duckdb

from workmeter.catalog.model import RATED_BUCKETS
from workmeter.rating.aggregate import cards_sql
from workmeter.rating.keyed import keyed_table
from workmeter.rating.store import PICO, dot_sql, join_sql, lookup_sql, qty, reason_sql, slow_sql
from workmeter.workunits.sources import COUNT_COLUMNS

_DAY = 86_400_000_000
_INPUTS = ("input", "cache_read", "cache_write_5m", "cache_write_1h")
#: The lookup rows of the current rate cards, one temp table per run.
LOOKUP = "_wm_lk"


def ledger_relation(con: duckdb.DuckDBPyConnection) -> str:
    """``events`` when no correction is recorded (then it is exactly ``live_events``), else ``live_events``.

    Call inside the snapshot that also reads the relation."""
    found = con.execute("SELECT EXISTS (SELECT 1 FROM corrections)").fetchone()
    return "live_events" if found is None or found[0] else "events"


def usage_events(source: str, where: str) -> str:
    """Usage events of ``source`` with ``wm_tod`` (µs after UTC midnight) and ``wm_in`` (total input),
    as :func:`workmeter.rating.store.usage_events_sql` gives them for ``live_events``."""
    tod = f"(epoch_us(time) % {_DAY} + {_DAY}) % {_DAY}"
    total_input = " + ".join(qty(b, "u") for b in _INPUTS)
    return (f"(SELECT u.*, {tod} AS wm_tod, {total_input} AS wm_in FROM {source} u "
            f"WHERE u.type = 'llm.usage' AND ({where}))")


def usage_sql(source: str, where: str, by_model: bool = True) -> str:
    """``_wm_um``: per (customer, task, model) calls, counts, exact cost, unpriced calls, first and last call."""
    model, by = ("r.model", ", r.model") if by_model else ("NULL::VARCHAR AS model", "")
    sums = ", ".join(f'coalesce(sum(r."n_{c}"), 0) AS "{c}"' for c in COUNT_COLUMNS)
    raw = ", ".join(f'e."{c}" AS "n_{c}"' for c in COUNT_COLUMNS)
    prices = ", ".join(f"k.pp_{b}, k.p_{b}" for b in RATED_BUCKETS)
    counts = ", ".join(f'{qty(b)} AS "{b}"' for b in RATED_BUCKETS if b != "request")
    slow = " + ".join(slow_sql(b) for b in RATED_BUCKETS)
    return f"""
CREATE OR REPLACE TEMP TABLE _wm_um AS
SELECT r.customer, r.task_id, {model}, count(*) AS calls, {sums},
       CASE WHEN count(*) > count(*) FILTER (WHERE NOT r.priced)
            THEN coalesce(sum(r.fast)::DECIMAL(38, 0) * {PICO}, 0) + coalesce(sum(r.slow), 0) END AS cost,
       count(*) FILTER (WHERE NOT r.priced) AS unpriced_calls, min(r.time) AS first_at, max(r.time) AS last_at
FROM (
  SELECT *, CASE WHEN priced AND fast IS NULL THEN {slow} END AS slow
  FROM (SELECT *, CASE WHEN priced THEN try({dot_sql(RATED_BUCKETS)}) END AS fast FROM (
    SELECT e.subject AS customer, e.task_id, e.model, e.time, {raw}, {counts}, {prices},
           ({reason_sql()}) IS NULL AS priced
    FROM {usage_events(source, where)} e {join_sql(LOOKUP)}) r) r
) r
GROUP BY r.customer, r.task_id{by}
"""


def _keyed_usage(con: duckdb.DuckDBPyConnection, params: dict[str, Any], where: str, by_model: bool) -> bool:
    """``_wm_um`` with prices picked by integer cell (:mod:`workmeter.rating.keyed`); False when
    that path does not apply (nothing written)."""
    groups = ["subject", "task_id", *(["model"] if by_model else [])]
    extras = [*(f'coalesce(sum("{c}"), 0)' for c in COUNT_COLUMNS), "min(time)", "max(time)"]
    if not keyed_table(con, "_wm_um_k", groups, where, params, cards_sql(None), extras):
        return False
    n = len(COUNT_COLUMNS)
    sums = ", ".join(f'x{i} AS "{c}"' for i, c in enumerate(COUNT_COLUMNS))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _wm_um AS
SELECT g0 AS customer, g1 AS task_id, {"g2" if by_model else "NULL::VARCHAR"} AS model, events AS calls, {sums},
       cost, unpriced_events AS unpriced_calls, x{n} AS first_at, x{n + 1} AS last_at
FROM _wm_um_k""")
    con.execute("DROP TABLE _wm_um_k")
    return True


def load_rated_usage(con: duckdb.DuckDBPyConnection, params: dict[str, Any], where: str, *,
                     ledger: str = "live_events", by_model: bool = True, by_key: bool = True) -> None:
    """Fill ``_wm_um`` from ``ledger`` (see :func:`ledger_relation`) at the current rate cards:
    by integer cell when every usage event has a rate key (and ``by_key``), else by the string
    join below; both give the same rows."""
    if by_key and _keyed_usage(con, params, where, by_model):
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE {LOOKUP} AS SELECT * FROM {lookup_sql(cards_sql(None))}")
    con.execute(usage_sql(ledger, where, by_model), params)
    con.execute(f"DROP TABLE {LOOKUP}")
