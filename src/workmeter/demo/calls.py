"""Model calls: the usage events of tasks, ad-hoc usage, and deliberately bad usage.

Calls of a task fall strictly inside its window ``[start, start + duration)``,
in order. A call is a *retry* with a workflow-specific chance (four times as
likely in failed tasks, 70% in the 1% of tasks caught in a retry storm): it
repeats the previous prompt, so it keeps that call's ``prompt_hash``,
model, format, tier and prompt size. Calls per task are heavy-tailed and
research agents make many more than invoice extraction, and more and more
over the period (2.5× by its end: tokens grow while completed work does
not); a few runaway tasks make 25× their share. Ad-hoc calls (about a
tenth) belong to no task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workmeter.demo.tasks import FAILED, MODEL_CDF, Cols, assign_people, model_cdf, pick
from workmeter.demo.timeline import Period
from workmeter.demo.tokens import ADHOC_CODE, draw_prompt, draw_rest, route
from workmeter.demo.world import (
    ADHOC,
    ADHOC_TEAM_WEIGHTS,
    FORMATS,
    MODEL_INDEX,
    WORKFLOWS,
    customer_weights,
)

#: Kinds of bad events, in the order their counts are split.
BAD_KINDS: tuple[str, ...] = (
    "missing_subject",
    "bad_time",
    "negative_tokens",
    "cached_exceeds_prompt",
    "reasoning_exceeds_output",
    "unknown_usage_format",
)
#: model and usage format forced on the bad kinds that need one
_FORCED: dict[str, tuple[str, int]] = {
    "negative_tokens": ("claude-sonnet-4-5-20250929", FORMATS.index("anthropic")),
    "cached_exceeds_prompt": ("gpt-4o-mini", FORMATS.index("openai-chat")),
    "reasoning_exceeds_output": ("o3", FORMATS.index("openai-responses")),
    "unknown_usage_format": ("gemini-2.5-flash", len(FORMATS)),  # code past the real formats
}
_CALLS = np.array([w.calls for w in WORKFLOWS])
_RETRY = np.array([w.retry for w in WORKFLOWS])
_STATUS_FACTOR = np.array([1.0, 1.5, 0.6, 0.5])  # completed, failed, abandoned, silent
#: growth of calls per task over the period (research agents get chattier; their work does not grow)
_CHATTIER = np.array([1.5 if w.name == "research-agent" else 0.0 for w in WORKFLOWS])
_ADHOC_CDF = model_cdf([ADHOC.models])[0]


@dataclass(frozen=True)
class World:
    """What stays the same across the chunks of one run."""

    seed: int
    period: Period
    customers: int
    caching: np.ndarray  # per customer: uses prompt caching at all

    @classmethod
    def of(cls, seed: int, period: Period, customers: int) -> World:
        caching = np.random.default_rng([seed, 7]).random(customers) > 0.2
        return cls(seed, period, customers, caching)


def task_calls(rng: np.random.Generator, t: Cols, n: int, world: World) -> Cols:
    """``n`` calls (at least one per task) spread over the tasks ``t``."""
    T = len(t["status"])
    wf = t["workflow"]
    weight = _CALLS[wf] * rng.lognormal(0, 0.6, T) * _STATUS_FACTOR[t["status"]] * np.where(t["runaway"], 25, 1)
    span = world.period.end_ms - world.period.start_ms
    weight *= 1 + _CHATTIER[wf] * (t["start"] - world.period.start_ms) / span
    counts = 1 + rng.multinomial(n - T, weight / weight.sum())
    task = np.repeat(np.arange(T), counts)
    k = np.arange(n) - (np.cumsum(counts) - counts)[task]
    p_retry = np.where(t["storm"], 0.7, np.minimum(0.9, _RETRY[wf] * np.where(t["status"] == FAILED, 4, 1)))
    retry = (k > 0) & (rng.random(n) < p_retry[task])
    base = np.maximum.accumulate(np.where(retry, -1, np.arange(n)))
    c: Cols = {name: t[name][task] for name in ("customer", "workflow", "team", "project", "user")}
    c["task"] = task
    c["time"] = t["start"][task] + (t["dur"][task] * (k + rng.random(n)) / counts[task]).astype(np.int64)
    own = rng.random(n) < 0.85
    c["model"] = np.where(own, t["model"][task], pick(rng, MODEL_CDF, c["workflow"]))
    c["retry"], c["base"] = retry, base
    c["bad"] = np.full(n, -1)
    return _finish(rng, c, world)


def adhoc_calls(rng: np.random.Generator, n: int, world: World) -> Cols:
    """``n`` calls outside any task: spread over customers, teams and the period."""
    return _finish(rng, _adhoc_people(rng, n, world), world)


def _adhoc_people(rng: np.random.Generator, n: int, world: World) -> Cols:
    customer = rng.choice(world.customers, size=n, p=customer_weights(world.customers))
    team = rng.choice(len(ADHOC_TEAM_WEIGHTS), size=n, p=ADHOC_TEAM_WEIGHTS / ADHOC_TEAM_WEIGHTS.sum())
    project, user = assign_people(rng, customer, team)
    c: Cols = {
        "customer": customer, "team": team, "project": project, "user": user,
        "workflow": np.full(n, ADHOC_CODE), "task": np.full(n, -1),
        "time": np.sort(world.period.sample(rng, n)),
        "model": pick(rng, _ADHOC_CDF[None, :], np.zeros(n, dtype=np.int64)),
        "retry": np.zeros(n, bool), "base": np.arange(n), "bad": np.full(n, -1),
    }
    return c


def bad_calls(rng: np.random.Generator, counts: dict[str, int], world: World) -> Cols:
    """Ad-hoc-looking calls, ``counts[kind]`` of each bad kind (column ``bad`` = index in BAD_KINDS)."""
    n = sum(counts.values())
    c = _adhoc_people(rng, n, world)
    c["bad"] = np.repeat(np.arange(len(BAD_KINDS)), [counts.get(k, 0) for k in BAD_KINDS])
    for kind, (model, _) in _FORCED.items():
        c["model"][c["bad"] == BAD_KINDS.index(kind)] = MODEL_INDEX[model]
    return _finish(rng, c, world, {BAD_KINDS.index(k): fmt for k, (_, fmt) in _FORCED.items()})


def _finish(rng: np.random.Generator, c: Cols, world: World, forced: dict[int, int] | None = None) -> Cols:
    """Route and size each call, grouped by usage format (stable, so time order holds within a format).

    Retries copy routing and prompt size from the call they repeat. ``forced``
    maps a bad-kind code to the usage format its rows must use.
    """
    base = c["base"]
    c["model"] = c["model"][base]
    route(rng, c)
    for name in ("format", "tier", "has_format", "has_tier"):
        c[name] = c[name][base]
    for code, fmt in (forced or {}).items():
        rows = c["bad"] == code
        c["format"][rows] = fmt
        c["has_format"][rows] = True
    order = np.argsort(np.minimum(c["format"], len(FORMATS) - 1).astype(np.int8), kind="stable")
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    c = {k: v[order] for k, v in c.items()}
    c["base"] = where[c["base"]]
    draw_prompt(rng, c)
    c["prompt"] = c["prompt"][c["base"]]
    draw_rest(rng, c, world.caching)
    return c
