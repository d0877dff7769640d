"""The two inputs of every work-unit report, read set-based into temp tables.

* ``_wm_tev`` — task events from ``live_events`` (corrections applied): one row
  per ``task.*`` event with its ``data`` fields unpacked (``workflow``,
  ``parent_task_id``, ``outcome``, ``value`` as an exact DECIMAL, ``confirmed``)
  and ``ord``, the event's (time, seq) order as one HUGEINT (µs × 2^63 + seq;
  seq is never negative), which aggregates compare far faster than a pair.
* ``_wm_um`` — rated usage aggregated once per (customer, task, model), or per
  (customer, task) when the report needs no per-model figures: calls, tokens
  per bucket, exact cost, unpriced calls. Rows with a NULL task are the
  unattributed usage. This is the only pass over the (large) usage table that
  every report needs; over ``rated_events`` it prices each event as one integer
  dot product and sums (:mod:`workmeter.workunits.usage`: the same exact numbers).

Each statement reads the ``ledger`` relation it is given: ``live_events``, or
``events`` when the caller has checked, in the same snapshot, that no
correction is recorded (then the two are the same rows).

A task is identified by ``(customer, task_id)``: the customer is the event's
``subject``, so two customers may use the same task ids. Every source is cut at
the report's ``as_of`` instant (events after it do not exist yet for the report)
and may be narrowed to one customer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb

from workmeter.core.errors import InvalidInput
from workmeter.core.timeutil import parse_instant
from workmeter.normalize.buckets import TOKEN_BUCKETS
from workmeter.workunits.settings import TASK_TYPES

#: Every count column summed per task (token buckets, reasoning and web searches).
COUNT_COLUMNS: tuple[str, ...] = (*TOKEN_BUCKETS, "reasoning", "web_search")
#: The usage relation: rated live events (see the pricing package).
USAGE_SOURCE = "rated_events"

_FILTER = "time <= $as_of AND ($customer IS NULL OR subject = $customer)"

#: The ``data`` fields a task event may carry, read with one JSON parse per event.
_TASK_FIELDS = ("workflow", "parent_task_id", "outcome", "value", "currency", "confirmed", "verified")

TASK_EVENTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE _wm_tev AS
SELECT customer, task_id, type, time, seq, epoch_us(time)::HUGEINT * 9223372036854775808 + seq AS ord,
       f[1] AS workflow,
       f[2] AS parent_task_id,
       team, project, "user",
       CASE WHEN type = 'task.outcome' THEN f[3] END AS outcome,
       TRY_CAST(f[4] AS DECIMAL(38, 18)) AS value,
       coalesce(f[5], $currency) AS currency,
       coalesce(TRY_CAST(f[6] AS BOOLEAN), false) OR coalesce(TRY_CAST(f[7] AS BOOLEAN), false) AS confirmed
FROM (SELECT subject AS customer, task_id, type, time, seq, team, project, "user",
             json_extract_string(data, [{", ".join(f"'$.{f}'" for f in _TASK_FIELDS)}]) AS f
      FROM {{ledger}}
      WHERE type IN ({", ".join(f"'{t}'" for t in TASK_TYPES)}) AND task_id IS NOT NULL AND {_FILTER})
"""


def usage_sql(source: str = USAGE_SOURCE) -> str:
    """``_wm_um`` straight from any relation shaped like ``rated_events``."""
    sums = ",\n       ".join(f'coalesce(sum("{c}"), 0) AS "{c}"' for c in COUNT_COLUMNS)
    return f"""
CREATE OR REPLACE TEMP TABLE _wm_um AS
SELECT subject AS customer, task_id, model,
       count(*) AS calls,
       {sums},
       sum(cost) AS cost, count(*) - count(cost) AS unpriced_calls,
       min(time) AS first_at, max(time) AS last_at
FROM {source}
WHERE {_FILTER}
GROUP BY ALL
"""


#: Attributes of tasks that their task events do not name (workflow, team, project, user),
#: taken from their usage calls (the smallest value when calls disagree).
USAGE_ATTRIBUTES = f"""
CREATE OR REPLACE TEMP TABLE _wm_uattr AS
SELECT subject AS customer, task_id, min(workflow) AS workflow, min(team) AS team, min(project) AS project,
       min("user") AS "user"
FROM {{ledger}} e SEMI JOIN _wm_need n ON n.customer = e.subject AND n.task_id = e.task_id
WHERE e.type = 'llm.usage' AND {_FILTER}
GROUP BY ALL
"""


#: ``data.prompt_hash`` of a usage row (a ledger column, filled at ingest).
PROMPT_HASH = "prompt_hash"


def retries_sql(ledger: str = "live_events") -> str:
    """``_wm_retry``: per task, calls repeating a prompt hash already seen in that task.

    Only calls with a prompt hash are grouped."""
    return f"""
CREATE OR REPLACE TEMP TABLE _wm_retry AS
SELECT customer, task_id, sum(n - 1) AS retries
FROM (SELECT customer, task_id, prompt_hash, count(*) AS n
      FROM (SELECT subject AS customer, task_id, {PROMPT_HASH} AS prompt_hash
            FROM {ledger} WHERE type = 'llm.usage' AND task_id IS NOT NULL AND {_FILTER})
      WHERE prompt_hash IS NOT NULL
      GROUP BY ALL)
WHERE n > 1
GROUP BY ALL
"""


def prompt_calls_sql(source: str = USAGE_SOURCE) -> str:
    """``_wm_ph``: one row per usage call that carries a prompt hash (for the waste finders).

    ``cache_read_price`` (USD per token) starts NULL; :mod:`.prices` fills it in.
    """
    tokens = " + ".join(f'r."{c}"' for c in TOKEN_BUCKETS)
    total_input = " + ".join(f'coalesce(r."{c}", 0)' for c in TOKEN_BUCKETS if c != "output")
    return f"""
CREATE OR REPLACE TEMP TABLE _wm_ph AS
SELECT * EXCLUDE (prompt_hash), prompt_hash FROM (
  SELECT r.subject AS customer, r.task_id, r.{PROMPT_HASH} AS prompt_hash, r.time, r.seq,
         r.provider, r.model, r.service_tier, r.rating_run, r.workflow, r.input, {tokens} AS tokens,
         {total_input} AS total_input, r.cost, r.cost_input, NULL::DECIMAL(38, 24) AS cache_read_price
  FROM {source} r WHERE {_FILTER.replace("time", "r.time").replace("subject", "r.subject")}
) WHERE prompt_hash IS NOT NULL
"""


def load_task_events(con: duckdb.DuckDBPyConnection, params: dict[str, Any], ledger: str = "live_events") -> None:
    """Fill ``_wm_tev`` (enough for outcome billing)."""
    con.execute(TASK_EVENTS_SQL.format(ledger=ledger), {k: params[k] for k in ("as_of", "customer", "currency")})


def load_usage(con: duckdb.DuckDBPyConnection, params: dict[str, Any], source: str = USAGE_SOURCE, *,
               ledger: str = "live_events", by_model: bool = True) -> None:
    """Fill ``_wm_um`` (per model only with ``by_model``) and ``_wm_retry`` for one report run."""
    from workmeter.workunits.usage import load_rated_usage

    usage_params = {k: params[k] for k in ("as_of", "customer")}
    if source == "rated_events":
        load_rated_usage(con, usage_params, _FILTER, ledger=ledger, by_model=by_model)
    else:
        con.execute(usage_sql(source), usage_params)
    con.execute(retries_sql(ledger), usage_params)


def default_as_of(con: duckdb.DuckDBPyConnection) -> Any:
    """Now, or the newest event's time when the ledger holds events dated later.

    Read in one snapshot: with no correction recorded ``live_events`` is exactly
    ``events``, whose newest time DuckDB answers from its statistics (no scan).
    """
    from workmeter.rating.aggregate import snapshot

    with snapshot(con):
        found = con.execute("SELECT EXISTS (SELECT 1 FROM corrections)").fetchone()
        source = "live_events" if found is None or found[0] else "events"
        row = con.execute(f"SELECT greatest(now(), coalesce(max(time), now())) FROM {source}").fetchone()
    assert row is not None
    return row[0]


def instant(value: object, field: str = "time") -> datetime | None:
    """A report bound as an aware UTC datetime: datetime, date (midnight UTC), or text
    (``2026-10``, ``2026-10-01``, RFC 3339)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return instant(parse_instant(value, field=field), field)
    raise InvalidInput(f"{field}: {type(value).__name__} is not a time")
