"""Per-task state, derived set-based from task events and rated usage.

``build_tasks`` leaves one temp table ``_wm_tasks`` with a row per task
(customer, task_id). Columns (``own`` = the task's own calls; ``*_total`` =
the task plus all its descendants):

* lifecycle: ``workflow``, ``team``, ``project``, ``user`` (from the task's events, the
  earliest value; from its usage calls only when its events name none of them), ``parent_task_id``,
  ``root_task_id``, ``is_top``, ``started_at``, ``ended_at``, ``last_activity_at``,
  ``status`` (completed | failed | abandoned | running), ``abandoned_inferred``,
  ``duration_s`` — rules in :mod:`workmeter.workunits.settings`;
* usage: ``calls``, one column per bucket, ``tokens`` (all token buckets),
  ``cost`` (exact; unpriced calls add nothing and are counted in
  ``unpriced_calls``), ``models`` (sorted), ``model`` (the model with the most
  cost, then the most calls), ``retries`` (calls repeating a ``prompt_hash``
  already seen in the task), and ``calls_total``, ``tokens_total``,
  ``cost_total``, ``unpriced_calls_total``, ``subtasks``;
* outcome: see :mod:`workmeter.workunits.outcomes` (``outcome``, ``value``, ``billed``).

Nesting: ``parent_task_id`` links a task to a parent task of the same customer.
A parent that never appears is ignored (the task is top-level). A task whose
parent chain loops back to itself has its parent link dropped, so every cost
belongs to exactly one top-level task and Σ top-level ``cost_total`` +
unattributed cost = total cost.
"""

from __future__ import annotations

from typing import Any

import duckdb

from workmeter.workunits.settings import TERMINAL_TYPES
from workmeter.workunits.sources import COUNT_COLUMNS, USAGE_ATTRIBUTES

_TERMINAL = ", ".join(f"'{t}'" for t in TERMINAL_TYPES)
_STATUS_CASE = " ".join(f"WHEN '{t}' THEN '{s}'" for t, s in TERMINAL_TYPES.items())
_SUMS = ", ".join(f'sum("{c}") AS "{c}"' for c in COUNT_COLUMNS)
_TOKENS = " + ".join(f'"{c}"' for c in COUNT_COLUMNS if c not in ("reasoning", "web_search"))

#: Attributes a task takes from its earliest event naming them.
EVENT_ATTRIBUTES: tuple[str, ...] = ("workflow", "parent_task_id", "team", "project", "user")

_EV = f"""
ev AS (
  SELECT customer, task_id,
         min(time) FILTER (WHERE type = 'task.started') AS started_ev,
         min(time) AS first_ev, max(time) AS last_ev,
         arg_max(type, ord) FILTER (WHERE type IN ({_TERMINAL})) AS terminal_type,
         max(time) FILTER (WHERE type IN ({_TERMINAL})) AS terminal_at,
         {{attributes}}
  FROM _wm_tev GROUP BY ALL
)"""


#: How many task events name each attribute.
_NAMED = "SELECT " + ", ".join(f'count("{a}")' for a in EVENT_ATTRIBUTES) + " FROM _wm_tev"


def _attributes(present: frozenset[str]) -> str:
    """The attribute columns of ``ev``; one no task event names is simply NULL (no aggregate to run)."""
    return ", ".join(f'arg_min("{a}", ord) FILTER (WHERE "{a}" IS NOT NULL) AS "{a}"' if a in present
                     else f'NULL::VARCHAR AS "{a}"' for a in EVENT_ATTRIBUTES)


#: A task's models as a bit mask over ``_wm_mid`` ids; each distinct mask becomes its sorted list once.
_MASKED = ("bit_or(1::UBIGINT << m.id) AS mset",
           "_wm_um u JOIN _wm_mid m ON m.model IS NOT DISTINCT FROM u.model",
           """,
sets AS (
  SELECT s.mset, list(m.model ORDER BY m.id) AS models
  FROM (SELECT DISTINCT mset FROM us) s JOIN _wm_mid m ON (s.mset >> m.id) & 1 = 1 GROUP BY s.mset
)""", "sets.models", "\nLEFT JOIN sets ON sets.mset = us.mset")
#: A sorted list per task (any number of models).
_LISTED = ("list_sort(list(u.model), 'ASC', 'NULLS LAST') AS models", "_wm_um u", "", "us.models", "")


#: ``_wm_um`` already per (customer, task), without models: nothing to group, no models to list.
_PLAIN_US = f"""
us AS (
  SELECT u.customer, u.task_id, u.calls, {", ".join(f'u."{c}"' for c in COUNT_COLUMNS)}, u.cost, u.unpriced_calls,
         u.first_at AS first_use, u.last_at AS last_use, NULL::VARCHAR AS model
  FROM _wm_um u WHERE u.task_id IS NOT NULL
)"""


def _own_sql(masked: bool | None, present: frozenset[str] = frozenset(EVENT_ATTRIBUTES)) -> str:
    """``_wm_own``; ``masked``: models as a bit mask (True), as lists (False), not known (None);
    ``present``: the attributes some task event names."""
    attributes = _attributes(present)
    if masked is None:
        return _OWN.format(us=_PLAIN_US, listed="NULL::VARCHAR[]", join="", attributes=attributes)
    models, source, sets, listed, join = _MASKED if masked else _LISTED
    return _OWN.format(us=f"""
us AS MATERIALIZED (
  SELECT u.customer, u.task_id, sum(u.calls) AS calls, {_SUMS.replace("sum(", "sum(u.")}, sum(u.cost) AS cost,
         sum(u.unpriced_calls) AS unpriced_calls, min(u.first_at) AS first_use, max(u.last_at) AS last_use,
         {models},
         arg_max(u.model, (coalesce(u.cost, 0), u.calls, u.model)) AS model
  FROM {source}
  WHERE u.task_id IS NOT NULL GROUP BY u.customer, u.task_id
){sets}""", listed=f"coalesce({listed}, [])", join=join, attributes=attributes)


_OWN = f"""
CREATE OR REPLACE TEMP TABLE _wm_own AS
WITH {_EV},{{us}}
SELECT coalesce(ev.customer, us.customer) AS customer, coalesce(ev.task_id, us.task_id) AS task_id,
       ev.workflow, ev.team, ev.project, ev."user",
       ev.parent_task_id,
       coalesce(ev.started_ev, least(ev.first_ev, us.first_use)) AS started_at,
       greatest(ev.last_ev, us.last_use) AS last_activity_at,
       ev.terminal_type, ev.terminal_at,
       coalesce(us.calls, 0) AS calls,
       {", ".join(f'coalesce(us."{c}", 0) AS "{c}"' for c in COUNT_COLUMNS)},
       coalesce(us.cost, 0::DECIMAL(38, 18)) AS cost,
       coalesce(us.unpriced_calls, 0) AS unpriced_calls,
       {{listed}} AS models, us.model
FROM ev FULL OUTER JOIN us ON us.customer = ev.customer AND us.task_id = ev.task_id{{join}}
"""


#: The models of tasks' usage, numbered in ``models`` order (NULL last).
_MODEL_IDS = """
CREATE OR REPLACE TEMP TABLE _wm_mid AS
SELECT model, (row_number() OVER (ORDER BY model ASC NULLS LAST) - 1)::INTEGER AS id
FROM (SELECT DISTINCT model FROM _wm_um WHERE task_id IS NOT NULL)
"""
_MASK_BITS = 64

_NEED = """
CREATE OR REPLACE TEMP TABLE _wm_need AS SELECT customer, task_id FROM _wm_own
WHERE workflow IS NULL AND team IS NULL AND project IS NULL AND "user" IS NULL
"""

_FILL = """
UPDATE _wm_own o SET workflow = a.workflow, team = a.team, project = a.project, "user" = a."user"
FROM _wm_uattr a WHERE a.customer = o.customer AND a.task_id = o.task_id
"""

_EDGES = """
CREATE OR REPLACE TEMP TABLE _wm_edges AS
SELECT c.customer, c.task_id, c.parent_task_id
FROM _wm_own c SEMI JOIN _wm_own p ON p.customer = c.customer AND p.task_id = c.parent_task_id
WHERE c.parent_task_id IS NOT NULL AND c.parent_task_id <> c.task_id
"""

_ANC = """
CREATE OR REPLACE TEMP TABLE _wm_anc AS
WITH RECURSIVE anc(customer, task_id, ancestor) AS (
  SELECT customer, task_id, parent_task_id FROM _wm_edges
  UNION
  SELECT a.customer, a.task_id, e.parent_task_id
  FROM anc a JOIN _wm_edges e ON e.customer = a.customer AND e.task_id = a.ancestor
)
SELECT * FROM anc
"""

_DROP_CYCLES = """
DELETE FROM _wm_edges e USING (SELECT DISTINCT customer, task_id FROM _wm_anc WHERE task_id = ancestor) c
WHERE e.customer = c.customer AND e.task_id = c.task_id
"""

#: Columns summed over a task's descendants into ``<name>_total``.
SUBTREE_COLUMNS: tuple[str, ...] = ("calls", "tokens", "cost", "unpriced_calls", "value", "outcomes_billed")
_SUB_SUMS = ", ".join(f'sum(d."{c}") AS "{c}"' for c in SUBTREE_COLUMNS)
_TOTALS = ", ".join(f'o."{c}" + coalesce(s."{c}", 0) AS "{c}_total"' for c in SUBTREE_COLUMNS)

_TASKS = f"""
CREATE OR REPLACE TEMP TABLE _wm_tasks AS
WITH own AS (
  SELECT o.*, {_TOKENS} AS tokens, coalesce(rt.retries, 0) AS retries,
         t.outcome, t.outcome_at, t.confirmed AS outcome_confirmed,
         coalesce(t.value, 0::DECIMAL(38, 18)) AS value, coalesce(t.outcomes_billed, 0) AS outcomes_billed
  FROM _wm_own o
  LEFT JOIN _wm_retry rt ON rt.customer = o.customer AND rt.task_id = o.task_id
  LEFT JOIN _wm_tout t ON t.customer = o.customer AND t.task_id = o.task_id
),
sub AS (
  SELECT a.customer, a.ancestor AS task_id, count(*) AS subtasks, {_SUB_SUMS}
  FROM _wm_anc a JOIN own d ON d.customer = a.customer AND d.task_id = a.task_id GROUP BY ALL
),
root AS (
  SELECT a.customer, a.task_id, a.ancestor AS root_task_id
  FROM _wm_anc a ANTI JOIN _wm_edges e ON e.customer = a.customer AND e.task_id = a.ancestor
),
life AS (
  SELECT o.*, CASE WHEN o.terminal_type IS NOT NULL THEN o.terminal_at ELSE o.last_activity_at END AS ended_at,
         o.terminal_type IS NULL AND o.last_activity_at < $as_of - to_seconds($abandon_s) AS abandoned_inferred
  FROM own o
)
SELECT o.customer, o.task_id, o.workflow, o.team, o.project, o."user",
       CASE WHEN e.task_id IS NOT NULL THEN o.parent_task_id END AS parent_task_id,
       coalesce(r.root_task_id, o.task_id) AS root_task_id, e.task_id IS NULL AS is_top,
       o.started_at, o.ended_at, o.last_activity_at,
       CASE WHEN o.terminal_type IS NOT NULL THEN CASE o.terminal_type {_STATUS_CASE} END
            WHEN o.abandoned_inferred THEN 'abandoned' ELSE 'running' END AS status,
       o.abandoned_inferred, epoch(o.ended_at) - epoch(o.started_at) AS duration_s,
       o.calls, {", ".join(f'o."{c}"' for c in COUNT_COLUMNS)}, o.tokens, o.cost, o.unpriced_calls,
       o.models, o.model, o.retries,
       o.outcome, o.outcome_at, o.outcome_confirmed, o.value, o.outcomes_billed,
       coalesce(s.subtasks, 0) AS subtasks, {_TOTALS}
FROM life o
LEFT JOIN _wm_edges e ON e.customer = o.customer AND e.task_id = o.task_id
LEFT JOIN root r ON r.customer = o.customer AND r.task_id = o.task_id
LEFT JOIN sub s ON s.customer = o.customer AND s.task_id = o.task_id
"""


_ROOT_COLUMN = "coalesce(r.root_task_id, o.task_id) AS root_task_id"
_ROOT_JOIN = "LEFT JOIN root r ON r.customer = o.customer AND r.task_id = o.task_id\n"
assert _ROOT_COLUMN in _TASKS and _ROOT_JOIN in _TASKS


def build_tasks(con: duckdb.DuckDBPyConnection, *, params: dict[str, Any], abandon_after_seconds: int,
                ledger: str = "live_events", by_model: bool = True, materialize: bool = True) -> None:
    """Create ``_wm_tasks`` from ``_wm_tev``, ``_wm_um``, ``_wm_retry`` and ``_wm_tout``.

    Without ``by_model`` (``_wm_um`` per task, not per model) ``models`` and ``model`` are NULL;
    without ``materialize`` ``_wm_tasks`` is a view for one rollup query, which reads a few of its
    columns (``root_task_id`` is NULL there: no rollup groups by it)."""
    counts = con.execute(_NAMED).fetchone()
    present = frozenset(a for a, n in zip(EVENT_ATTRIBUTES, counts or (), strict=True) if n)
    if by_model:
        con.execute(_MODEL_IDS)
        models = con.execute("SELECT count(*) FROM _wm_mid").fetchone()
        con.execute(_own_sql(bool(models and models[0] <= _MASK_BITS), present))
    else:
        con.execute(_own_sql(None, present))
    con.execute(_NEED)
    need = con.execute("SELECT count(*) FROM _wm_need").fetchone()
    if need and need[0]:
        con.execute(USAGE_ATTRIBUTES.format(ledger=ledger), {k: params[k] for k in ("as_of", "customer")})
        con.execute(_FILL)
    con.execute(_EDGES)
    con.execute(_ANC)
    cycles = con.execute("SELECT count(*) FROM _wm_anc WHERE task_id = ancestor").fetchone()
    if cycles and cycles[0]:
        con.execute(_DROP_CYCLES)
        con.execute(_ANC)
    if materialize:
        con.execute(_TASKS, {"as_of": params["as_of"], "abandon_s": abandon_after_seconds})
    else:  # a view takes no parameters: the instant and the wait are written in
        at = params["as_of"].isoformat()
        con.execute(_TASKS.replace("CREATE OR REPLACE TEMP TABLE", "CREATE OR REPLACE TEMP VIEW")
                    .replace(_ROOT_COLUMN, "NULL::VARCHAR AS root_task_id").replace(_ROOT_JOIN, "")
                    .replace("$as_of", f"'{at}'::TIMESTAMPTZ").replace("$abandon_s", str(int(abandon_after_seconds))))
