"""Token counts of model calls, as exclusive buckets, plus how each call is reported.

Every call gets its "true" exclusive buckets first; each usage format then
writes them in that provider's own shape (see :mod:`workmeter.demo.formats`).
Columns (one value per call):

``prompt``       all input tokens: uncached + cache read + cache writes
``cache_read``   input served from the prompt cache (≤ prompt)
``write_5m`` / ``write_1h``  input written to the cache (Anthropic only)
``output``       all output tokens, reasoning included
``reasoning``    reasoning/thinking tokens (≤ output; reasoning models only)
``web_search``   web search requests (Anthropic only)
``tool_prompt``  Gemini tool-use prompt tokens (counted as input)

Token counts are lognormal per workflow (heavy tails), reasoning models write
about twice as much, a few calls exceed 200k input tokens on models with a
long-context price tier, OpenAI caches in 128-token steps and only for
prompts of 1024+ tokens, and one customer in five never caches.

Service tiers: mostly ``standard``; ``batch`` on Anthropic and OpenAI models
in batch-friendly workflows (a third of invoice extraction); OpenAI ``flex``
for 6% of calls to flex-capable models and ``priority`` for 2% of OpenAI
calls. ``usage_format`` is left out for 15% of calls whose provider implies
it, ``service_tier`` for 30% of standard calls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from workmeter.demo.tasks import Cols, pick
from workmeter.demo.world import ADHOC, FORMATS, MODELS, PROVIDERS, TIERS, WORKFLOWS

ALL_WORKFLOWS = (*WORKFLOWS, ADHOC)
#: Workflow code of calls that belong to no task.
ADHOC_CODE = len(WORKFLOWS)
STANDARD, BATCH, FLEX, PRIORITY = (TIERS.index(t) for t in ("standard", "batch", "flex", "priority"))

_P = {
    "prompt": np.log([w.prompt[0] for w in ALL_WORKFLOWS]),
    "prompt_sigma": np.array([w.prompt[1] for w in ALL_WORKFLOWS]),
    "output": np.log([w.output[0] for w in ALL_WORKFLOWS]),
    "output_sigma": np.array([w.output[1] for w in ALL_WORKFLOWS]),
    "cached": np.array([w.cached for w in ALL_WORKFLOWS]),
    "batch": np.array([w.batch for w in ALL_WORKFLOWS]),
    "research": np.array([w.name == "research-agent" for w in ALL_WORKFLOWS]),
}
_M = {
    "provider": np.array([PROVIDERS.index(m.provider) for m in MODELS]),
    "reasoning": np.array([m.reasoning for m in MODELS]),
    "long": np.array([m.long_context for m in MODELS]),
    "flex": np.array([m.flex for m in MODELS]),
    "format_cdf": np.cumsum([[m.formats.get(f, 0.0) for f in FORMATS] for m in MODELS], axis=1),
}
ANTHROPIC, OPENAI, GOOGLE = range(3)
#: The format a provider implies when ``usage_format`` is left out.
_DEFAULT_FORMAT = np.array([FORMATS.index("anthropic"), FORMATS.index("openai-chat"), FORMATS.index("gemini"), -1])


def route(rng: np.random.Generator, c: Cols) -> None:
    """Usage format, service tier, and whether each is written out or left to its default."""
    n = len(c["model"])
    provider = _M["provider"][c["model"]]
    fmt = pick(rng, _M["format_cdf"], c["model"])
    r = rng.random(n)
    tier = np.full(n, STANDARD)
    tier[(r < _P["batch"][c["workflow"]]) & np.isin(provider, (ANTHROPIC, OPENAI))] = BATCH
    s = rng.random(n)
    tier[(tier == STANDARD) & _M["flex"][c["model"]] & (s < 0.06)] = FLEX
    tier[(tier == STANDARD) & (provider == OPENAI) & (s > 0.98)] = PRIORITY
    c["provider"], c["format"], c["tier"] = provider, fmt, tier
    c["has_format"] = (fmt != _DEFAULT_FORMAT[provider]) | (rng.random(n) > 0.15)
    c["has_tier"] = (tier != STANDARD) | (rng.random(n) > 0.3)


def draw_prompt(rng: np.random.Generator, c: Cols) -> None:
    """All input tokens of each call, with a few long-context requests."""
    n = len(c["model"])
    wf = c["workflow"]
    prompt = rng.lognormal(_P["prompt"][wf], _P["prompt_sigma"][wf])
    long = _M["long"][c["model"]] & (rng.random(n) < np.where(_P["research"][wf], 0.02, 0.004))
    prompt[long] = rng.integers(200_001, 600_000, int(long.sum()))
    c["prompt"] = np.clip(prompt, 8, 900_000).astype(np.int64)


def _where(mask: np.ndarray, draw: Callable[[int], np.ndarray], n: int) -> np.ndarray:
    """``draw(k)`` values at the ``k`` rows of ``mask``, 0 elsewhere (draws only what is used)."""
    out = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(mask)
    out[rows] = draw(len(rows))
    return out


def draw_rest(rng: np.random.Generator, c: Cols, caching: np.ndarray) -> None:
    """Cache reads and writes, output, reasoning, web search and tool-use tokens."""
    n = len(c["model"])
    wf, provider, prompt = c["workflow"], c["provider"], c["prompt"]
    thinking = _M["reasoning"][c["model"]]
    out = rng.lognormal(_P["output"][wf], _P["output_sigma"][wf]) * np.where(thinking, 2.0, 1.0)
    c["output"] = output = np.clip(out, 1, 64_000).astype(np.int64)
    rows = np.flatnonzero(thinking)
    c["reasoning"] = _where(thinking, lambda k: output[rows] * rng.uniform(0.3, 0.85, k), n)
    u = rng.random(n, dtype=np.float32)
    hit = caching[c["customer"]] & (u < _P["cached"][wf])
    if_hit = np.flatnonzero(hit)
    read = _where(hit, lambda k: prompt[if_hit] * rng.uniform(0.3, 0.95, k), n)
    read = np.where(provider == OPENAI, read & -128, read)  # whole 128-token steps (read >= 0)
    read[(provider != ANTHROPIC) & (prompt < 1024)] = 0
    c["cache_read"] = read
    _cache_writes(rng, c, caching)
    research = _P["research"][wf]
    u = rng.random(n, dtype=np.float32)
    searching = (provider == ANTHROPIC) & (u < np.where(research, 0.25, 0.02))
    c["web_search"] = _where(searching, lambda k: rng.integers(1, 7, k), n)
    tooling = (provider == GOOGLE) & (u < np.where(research, 0.2, 0.03))
    c["tool_prompt"] = _where(tooling, lambda k: np.clip(rng.lognormal(6, 1, k), 1, 20_000), n)


def _cache_writes(rng: np.random.Generator, c: Cols, caching: np.ndarray) -> None:
    n = len(c["model"])
    u = rng.random(n, dtype=np.float32)
    writing = (c["provider"] == ANTHROPIC) & caching[c["customer"]] & (u < 0.25)
    rows = np.flatnonzero(writing)
    room = c["prompt"][rows] - c["cache_read"][rows]
    total = _where(writing, lambda k: room * rng.uniform(0.2, 0.8, k), n)
    # 80% of writes are all 5-minute, 12% all 1-hour, the rest split
    ttl = u / np.float32(0.25)  # uniform again on the writing rows
    split = writing & (ttl >= 0.92)
    hour = np.where(writing & (ttl >= 0.8) & (ttl < 0.92), total, 0)
    hour[split] = (total[split] * rng.uniform(0.2, 0.8, int(split.sum()))).astype(np.int64)
    hour[c["format"] == FORMATS.index("otel")] = 0  # OTel has no cache TTL: report 5-minute writes only
    c["write_1h"] = hour
    c["write_5m"] = total - hour
    # older API versions send no 5m/1h split (then all writes count as 5m)
    c["has_split"] = (hour > 0) | (rng.random(n, dtype=np.float32) > 0.2)
