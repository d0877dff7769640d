"""Work units: who runs which task when, how it ends, and the lifecycle events it emits.

Rules the generated tasks follow (the work reports rely on them):

- every task has one ``task.started``; completed, failed and explicitly
  abandoned tasks have one end event at ``start + duration``; silently
  abandoned tasks have none (they stop emitting anything);
- a sub-task (``parent_task_id``) belongs to the same customer, workflow,
  team, project and user as its parent and runs inside the parent's window;
- a completed top-level task may get one ``task.outcome`` after its end (with
  a decimal ``value`` in USD in most cases), and a few of those a later
  ``task.outcome`` with ``outcome = "reopened"`` (no value) before the
  period ends;
- all times fall inside the period.
"""

from __future__ import annotations

import numpy as np

from workmeter.demo.timeline import MS_HOUR, Period
from workmeter.demo.world import (
    MODEL_INDEX,
    PROJECTS,
    TEAMS,
    USERS_PER_CUSTOMER,
    WORKFLOWS,
    customer_weights,
    customer_workflow_mix,
)

Cols = dict[str, np.ndarray]

COMPLETED, FAILED, ABANDONED, SILENT = 0, 1, 2, 3
TASK_TYPES: tuple[str, ...] = ("task.started", "task.completed", "task.failed", "task.abandoned", "task.outcome")
OUTCOMES: tuple[str, ...] = (*(w.outcome for w in WORKFLOWS), "reopened")
REOPENED = len(OUTCOMES) - 1
VALUES: tuple[str, ...] = tuple(v for w in WORKFLOWS for v in w.values)
_VALUE_FIRST = np.cumsum([0] + [len(w.values) for w in WORKFLOWS])
REASONS: tuple[str, ...] = ("tool_error", "timeout", "max_turns", "guardrail", "user_left", "superseded")

_WF = {
    "status_cdf": np.cumsum([w.status for w in WORKFLOWS], axis=1),
    "minutes": np.array([w.minutes for w in WORKFLOWS]),
    "subtasks": np.array([w.subtasks for w in WORKFLOWS]),
    "outcome_rate": np.array([w.outcome_rate for w in WORKFLOWS]),
    "confirmed": np.array([w.confirmed for w in WORKFLOWS]),
    "reopen": np.array([w.reopen for w in WORKFLOWS]),
    "team": np.array([TEAMS.index(w.team) for w in WORKFLOWS]),
    "n_values": np.array([len(w.values) for w in WORKFLOWS]),
}


def pick(rng: np.random.Generator, cdf: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
    """One index per row: from row ``group[i]`` of the cumulative table ``cdf`` (or from ``cdf[i]``)."""
    if group is None:
        u = rng.random(len(cdf)) * cdf[:, -1]
        return np.minimum((u[:, None] >= cdf).sum(axis=1), cdf.shape[1] - 1)
    u = rng.random(len(group))
    out = np.empty(len(group), dtype=np.int64)
    small = np.int16 if len(cdf) < 2**15 else np.int64  # small ints sort by radix
    order = np.argsort(group.astype(small), kind="stable")
    sizes = np.bincount(group, minlength=len(cdf))
    lo = 0
    for g in np.flatnonzero(sizes):
        rows = order[lo : lo + sizes[g]]
        lo += sizes[g]
        out[rows] = np.searchsorted(cdf[g], u[rows] * cdf[g, -1], side="right")
    return np.minimum(out, cdf.shape[1] - 1)


def model_cdf(prefs: list[dict[str, float]]) -> np.ndarray:
    """(len(prefs), models) cumulative preference table."""
    table = np.zeros((len(prefs), len(MODEL_INDEX)))
    for i, pref in enumerate(prefs):
        for name, weight in pref.items():
            table[i, MODEL_INDEX[name]] = weight
    return np.cumsum(table, axis=1)


MODEL_CDF = model_cdf([w.models for w in WORKFLOWS])


def assign_people(rng: np.random.Generator, customer: np.ndarray, team: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A project of the team (each customer favours a different one) and a user of the customer."""
    n = len(customer)
    j = (rng.choice(3, size=n, p=[0.6, 0.3, 0.1]) + customer) % 3
    project = team * 3 + j
    user = customer * USERS_PER_CUSTOMER + (team * 4 + rng.integers(0, 6, size=n)) % USERS_PER_CUSTOMER
    return project, user


def draw_tasks(rng: np.random.Generator, n: int, period: Period, customers: int) -> Cols:
    """``n`` tasks: customer, workflow, people, primary model, status and time window."""
    customer = rng.choice(customers, size=n, p=customer_weights(customers))
    wf = pick(rng, customer_workflow_mix(customers), customer)
    status = pick(rng, _WF["status_cdf"], wf)
    dur = np.clip(rng.lognormal(np.log(_WF["minutes"][wf] * 60_000), 0.8), 2_000, 6 * MS_HOUR).astype(np.int64)
    start = np.minimum(period.sample(rng, n), period.end_ms - 1 - dur)
    team = _WF["team"][wf]
    project, user = assign_people(rng, customer, team)
    t: Cols = {
        "customer": customer, "workflow": wf, "team": team, "project": project, "user": user,
        "model": pick(rng, MODEL_CDF, wf), "status": status, "start": start, "dur": dur,
        "parent": np.full(n, -1, dtype=np.int64),
        "storm": rng.random(n) < 0.01, "runaway": rng.random(n) < 0.003,
    }
    _nest(rng, t)
    return _by_start(t)


def _by_start(t: Cols) -> Cols:
    """Tasks in start order (so their calls come out roughly in time order); parents re-pointed."""
    order = np.argsort(t["start"], kind="stable")
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    out = {k: v[order] for k, v in t.items()}
    out["parent"] = np.where(out["parent"] >= 0, where[np.maximum(out["parent"], 0)], -1)
    return out


def _nest(rng: np.random.Generator, t: Cols) -> None:
    """Make some tasks sub-tasks of a top-level task of the same workflow."""
    child = rng.random(len(t["workflow"])) < _WF["subtasks"][t["workflow"]]
    for w in np.flatnonzero(_WF["subtasks"] > 0):
        roots = np.flatnonzero(~child & (t["workflow"] == w))
        kids = np.flatnonzero(child & (t["workflow"] == w))
        if len(roots) and len(kids):
            t["parent"][kids] = roots[rng.integers(0, len(roots), size=len(kids))]
    kids = np.flatnonzero(t["parent"] >= 0)
    p = t["parent"][kids]
    for name in ("customer", "team", "project", "user"):
        t[name][kids] = t[name][p]
    p_end = t["start"][p] + t["dur"][p]
    start = t["start"][p] + (t["dur"][p] * rng.uniform(0.05, 0.5, len(kids))).astype(np.int64)
    t["start"][kids] = start
    t["dur"][kids] = np.maximum(1, ((p_end - start) * rng.uniform(0.2, 0.9, len(kids))).astype(np.int64))


def lifecycle(rng: np.random.Generator, t: Cols, period: Period) -> Cols:
    """The task events: one row per event with its task, type, time and outcome fields."""
    n = len(t["status"])
    end = t["start"] + t["dur"]
    ended = np.flatnonzero(t["status"] != SILENT)
    wf = t["workflow"]
    won = (t["status"] == COMPLETED) & (t["parent"] < 0) & (rng.random(n) < _WF["outcome_rate"][wf])
    won = np.flatnonzero(won)
    delay = np.clip(rng.lognormal(np.log(60_000), 1.5, len(won)), 1, 48 * MS_HOUR).astype(np.int64)
    out_time = np.minimum(end[won] + delay, period.end_ms - 1)
    back = rng.random(len(won)) < _WF["reopen"][wf[won]]
    re_time = out_time + rng.integers(MS_HOUR, 72 * MS_HOUR, len(won))
    back &= re_time < period.end_ms
    reopened = won[back]
    task = np.concatenate([np.arange(n), ended, won, reopened])
    m = len(won)
    cols: Cols = {
        "task": task,
        "type": np.concatenate([np.zeros(n, np.int64), 1 + t["status"][ended], np.full(m + len(reopened), 4)]),
        "time": np.concatenate([t["start"], end[ended], out_time, re_time[back]]),
        "outcome": np.concatenate([np.zeros(n + len(ended), np.int64), wf[won], np.full(len(reopened), REOPENED)]),
        "has_value": np.concatenate([np.zeros(n + len(ended), bool), rng.random(m) < 0.95, np.zeros(len(reopened), bool)]),
        "confirmed": np.concatenate(
            [np.zeros(n + len(ended), bool), rng.random(m) < _WF["confirmed"][wf[won]], np.ones(len(reopened), bool)]),
    }
    k = len(task)
    cols["value"] = _VALUE_FIRST[wf[task]] + rng.integers(0, 1 << 30, k) % _WF["n_values"][wf[task]]
    cols["reason"] = np.where(cols["type"] == 2, rng.integers(0, 4, k), rng.integers(4, 6, k))
    cols["has_reason"] = (cols["type"] == 2) | (cols["type"] == 3)
    return cols


PROJECT_NAMES: tuple[str, ...] = tuple(p for team in TEAMS for p in PROJECTS[team])
