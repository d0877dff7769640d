"""Waste: money spent without producing completed work, ranked in dollars.

Each finder writes per-task *items* (kind, task, estimated saving, tokens);
findings are the items grouped by kind, detail and the requested keys,
ranked by saving, with the costliest task ids as examples. Findings with no
positive saving are dropped. Tasks count by their own attributes; the window
(``start``/``end``) selects tasks by start time.

``failed_or_abandoned``
    the whole cost (subtree included) of top-level tasks that failed or were
    abandoned (declared or inferred). Detail: the status.
``retry_storm``
    within one task, a ``data.prompt_hash`` sent again at least
    ``retry_min_repeats`` times: the cost of every repeat (all but the first call).
``low_cache_reuse``
    a call whose prompt hash this customer already sent (and which is not part
    of a retry storm) carrying ≥ ``cache_min_input`` *uncached* input tokens:
    saving = those tokens × (input price − cache-read price) of the call's own
    rated catalog line, i.e. its input cost minus the same tokens at the
    cache-read price (:mod:`workmeter.workunits.prices`).
``runaway``
    top-level tasks not failed/abandoned costing more than ``runaway_factor`` ×
    the p95 task cost of their workflow (workflows with ≥ ``runaway_min_tasks``
    tasks): saving = cost − k × p95 (what a per-task cap at that level saves).
``expensive_model``
    completed top-level tasks whose model (the one with most cost) has a
    cheaper alternative in the same workflow: a model with ≥
    ``model_min_completed`` completed tasks, a success rate at most
    ``model_success_tolerance`` lower, and a lower naive cost per completed task.
    Saving = task cost − that model's naive cost per completed task. Tasks with
    unpriced calls take no part in the comparison (their cost is not known, so
    an unpriced model never looks cheap).

Retry, cache and expensive-model items skip tasks under a failed or abandoned
top-level task, whose whole cost is already counted; runaway and
expensive-model findings may overlap on the same task.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import duckdb

from workmeter.core.errors import InvalidInput
from workmeter.workunits.ratios import ratio
from workmeter.workunits.rollups import window_sql
from workmeter.workunits.settings import WasteSettings

KINDS: tuple[str, ...] = ("failed_or_abandoned", "retry_storm", "low_cache_reuse", "runaway", "expensive_model")
DIMENSIONS: tuple[str, ...] = ("customer", "workflow", "team", "project")
DESCRIPTIONS: dict[str, str] = {
    "failed_or_abandoned": "spend on tasks that failed or were abandoned",
    "retry_storm": "the same prompt sent again and again within a task",
    "low_cache_reuse": "large repeated input sent uncached (saving at the cache-read price)",
    "runaway": "tasks costing far more than their workflow's p95",
    "expensive_model": "an expensive model where a cheaper one completes the same workflow",
}

_ITEMS = """CREATE OR REPLACE TEMP TABLE _wm_witems (kind VARCHAR, customer VARCHAR, task_id VARCHAR,
  workflow VARCHAR, team VARCHAR, project VARCHAR, detail VARCHAR, tokens HUGEINT, saving DECIMAL(38, 18))"""
_WIN = window_sql()
_DIMS = "t.customer, t.task_id, t.workflow, t.team, t.project"
# tasks whose top-level task did not fail / get abandoned (their waste is not counted already)
_HEALTHY = f"""(SELECT t.* FROM _wm_tasks t JOIN _wm_tasks r ON r.customer = t.customer
   AND r.task_id = t.root_task_id WHERE r.status NOT IN ('failed', 'abandoned') AND {_WIN.replace('started_at', 't.started_at')})"""

_FAILED = f"""INSERT INTO _wm_witems
SELECT 'failed_or_abandoned', {_DIMS}, t.status, t.tokens_total, t.cost_total FROM _wm_tasks t
WHERE t.is_top AND t.status IN ('failed', 'abandoned') AND t.cost_total > 0 AND {_WIN}"""

_RETRY = f"""INSERT INTO _wm_witems
WITH g AS (
  SELECT customer, task_id, prompt_hash, sum(tokens) - arg_min(tokens, (time, seq)) AS tokens,
         coalesce(sum(cost), 0) - coalesce(arg_min(cost, (time, seq)), 0) AS saving
  FROM _wm_ph WHERE task_id IS NOT NULL GROUP BY ALL HAVING count(*) - 1 >= $retry_min
)
SELECT 'retry_storm', {_DIMS}, NULL, sum(g.tokens), sum(g.saving)
FROM g JOIN {_HEALTHY} t ON t.customer = g.customer AND t.task_id = g.task_id GROUP BY ALL"""

_CACHE = f"""INSERT INTO _wm_witems
WITH storms AS (
  SELECT customer, task_id, prompt_hash FROM _wm_ph WHERE task_id IS NOT NULL
  GROUP BY ALL HAVING count(*) - 1 >= $retry_min
),
calls AS (
  SELECT *, row_number() OVER (PARTITION BY customer, prompt_hash ORDER BY time, seq) AS nth FROM _wm_ph
),
items AS (
  SELECT c.customer, c.task_id, c.workflow, c.input,
         c.cost_input - CAST(c.input * c.cache_read_price AS DECIMAL(38, 18)) AS saving
  FROM calls c ANTI JOIN storms s
    ON s.customer = c.customer AND s.task_id = c.task_id AND s.prompt_hash = c.prompt_hash
  WHERE c.nth > 1 AND c.input >= $cache_min AND c.cost_input IS NOT NULL AND c.cache_read_price IS NOT NULL
)
SELECT 'low_cache_reuse', i.customer, i.task_id, coalesce(t.workflow, i.workflow), t.team, t.project, NULL,
       sum(i.input), sum(i.saving)
FROM items i LEFT JOIN _wm_tasks t ON t.customer = i.customer AND t.task_id = i.task_id
LEFT JOIN _wm_tasks r ON r.customer = t.customer AND r.task_id = t.root_task_id
WHERE (i.task_id IS NULL OR (r.status NOT IN ('failed', 'abandoned') AND {_WIN.replace('started_at', 't.started_at')}))
GROUP BY ALL"""

_RUNAWAY = f"""INSERT INTO _wm_witems
WITH p AS (
  SELECT workflow, quantile_disc(cost_total, 0.95) AS p95 FROM _wm_tasks
  WHERE is_top AND workflow IS NOT NULL AND {_WIN} GROUP BY ALL HAVING count(*) >= $runaway_min
)
SELECT 'runaway', {_DIMS}, NULL, t.tokens_total,
       t.cost_total - CAST($k * p.p95 AS DECIMAL(38, 18))
FROM _wm_tasks t JOIN p ON p.workflow = t.workflow
WHERE t.is_top AND t.status NOT IN ('failed', 'abandoned') AND t.cost_total > $k * p.p95 AND {_WIN}"""

_MODEL_STATS = f"""SELECT workflow, model, count(*) FILTER (WHERE status = 'completed') AS done,
  count(*) FILTER (WHERE status IN ('completed', 'failed', 'abandoned')) AS finished,
  coalesce(sum(cost_total) FILTER (WHERE status = 'completed'), 0) AS done_cost
FROM _wm_tasks WHERE is_top AND workflow IS NOT NULL AND model IS NOT NULL AND unpriced_calls_total = 0
  AND {_WIN} GROUP BY ALL"""

_EXPENSIVE = f"""INSERT INTO _wm_witems
SELECT 'expensive_model', {_DIMS}, a.model || ' → ' || a.alt_model, NULL, t.cost_total - a.alt_cost
FROM _wm_tasks t JOIN _wm_alt a ON a.workflow = t.workflow AND a.model = t.model
WHERE t.is_top AND t.status = 'completed' AND {_WIN}"""


def find_waste(con: duckdb.DuckDBPyConnection, ws: WasteSettings, *, by: Sequence[str] = (),
               start: object = None, end: object = None) -> list[dict[str, Any]]:
    """Findings ranked by estimated saving (needs ``_wm_tasks`` and ``_wm_ph``)."""
    bad = [d for d in by if d not in DIMENSIONS]
    if bad:
        raise InvalidInput(f"waste can be grouped by {', '.join(DIMENSIONS)}, not {bad[0]!r}")
    win = {"start": start, "end": end}
    con.execute(_ITEMS)
    con.execute(_FAILED, win)
    con.execute(_RETRY, {**win, "retry_min": ws.retry_min_repeats})
    con.execute(_CACHE, {**win, "retry_min": ws.retry_min_repeats, "cache_min": ws.cache_min_input})
    con.execute(_RUNAWAY, {**win, "runaway_min": ws.runaway_min_tasks, "k": ws.runaway_factor})
    _alternatives(con, ws, win)
    con.execute(_EXPENSIVE, win)
    return _findings(con, list(by), ws.examples)


def _alternatives(con: duckdb.DuckDBPyConnection, ws: WasteSettings, win: dict[str, Any]) -> None:
    """``_wm_alt``: per (workflow, model) the cheapest qualifying model and its naive cost per completed task."""
    stats: dict[str, list[tuple[str, int, Decimal | None, Decimal | None]]] = {}
    for wf, model, done, finished, done_cost in con.execute(_MODEL_STATS, win).fetchall():
        stats.setdefault(wf, []).append((model, done, ratio(done, finished), ratio(done_cost, done)))
    rows = []
    for wf, models in stats.items():
        for model, done, rate, cpct in models:
            if not done or cpct is None:
                continue
            alts = [(c_cpct, c_model) for c_model, c_done, c_rate, c_cpct in models
                    if c_model != model and c_done >= ws.model_min_completed and c_cpct is not None
                    and c_cpct < cpct and (c_rate or 0) >= (rate or 0) - ws.model_success_tolerance]
            if alts:
                best_cost, best_model = min(alts)
                rows.append((wf, model, best_model, best_cost))
    con.execute("CREATE OR REPLACE TEMP TABLE _wm_alt (workflow VARCHAR, model VARCHAR, alt_model VARCHAR, "
                "alt_cost DECIMAL(38, 18))")
    if rows:
        con.executemany("INSERT INTO _wm_alt VALUES (?, ?, ?, ?)", rows)


def _findings(con: duckdb.DuckDBPyConnection, by: list[str], examples: int) -> list[dict[str, Any]]:
    keys = "".join(f'"{d}", ' for d in by)
    cur = con.execute(f"""
SELECT kind, {keys}detail, sum(saving) AS estimated_saving, sum(tokens) AS tokens,
       count(DISTINCT task_id) AS tasks,
       (list(task_id ORDER BY saving DESC, task_id) FILTER (WHERE task_id IS NOT NULL))[1:{int(examples)}] AS examples
FROM (SELECT kind, customer, task_id, workflow, team, project, detail,
             sum(tokens) AS tokens, sum(saving) AS saving FROM _wm_witems GROUP BY ALL)
GROUP BY ALL HAVING sum(saving) > 0
ORDER BY estimated_saving DESC, kind, {keys}detail NULLS FIRST""")
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        row["tokens"] = None if row["tokens"] is None else int(row["tokens"])
        row["description"] = DESCRIPTIONS[row["kind"]]
        out.append(row)
    return out
