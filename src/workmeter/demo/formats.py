"""The ``data`` of usage events, written in each provider's own usage shape.

From a call's exclusive buckets (see :mod:`workmeter.demo.tokens`), each
format writes what that provider's API returns, following its inclusion
rules:

==================  ===========================================================
anthropic           ``input_tokens`` excludes cache reads and writes;
                    ``cache_creation_input_tokens`` = 5m + 1h writes, split in
                    ``cache_creation`` (absent on older responses: all 5m);
                    ``output_tokens`` includes thinking; ``server_tool_use``
openai-chat         ``prompt_tokens`` includes ``cached_tokens``;
                    ``completion_tokens`` includes ``reasoning_tokens``
openai-responses    ``input_tokens`` includes ``cached_tokens``;
                    ``output_tokens`` includes ``reasoning_tokens``
gemini              ``promptTokenCount`` includes ``cachedContentTokenCount``;
                    ``thoughtsTokenCount`` is NOT in ``candidatesTokenCount``;
                    ``toolUsePromptTokenCount`` is extra input; zero counts
                    are left out, as the API does
otel                ``gen_ai.usage.input_tokens`` includes cache reads and
                    writes, ``output_tokens`` includes reasoning (GenAI
                    semantic conventions)
buckets             the exclusive buckets themselves; zero buckets left out
==================  ===========================================================

Bad events break exactly one rule each: a negative ``output_tokens``
(anthropic), ``cached_tokens`` above ``prompt_tokens`` (openai-chat),
``reasoning_tokens`` above ``output_tokens`` (openai-responses), or an
unknown ``usage_format``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from workmeter.demo.calls import BAD_KINDS
from workmeter.demo.tasks import OUTCOMES, PROJECT_NAMES, REASONS, VALUES, Cols
from workmeter.demo.text import Int, Opt, Piece, Template, fused, hex_text, join, masked, pieces
from workmeter.demo.world import (
    FORMATS,
    MODELS,
    PROVIDERS,
    TEAMS,
    TIERS,
    UNKNOWN_FORMAT,
    USERS_PER_CUSTOMER,
    WORKFLOWS,
)


def q(text: str) -> str:
    return f'"{text}"'


def quoted(texts: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(q(t) for t in texts)


ALL_FORMATS = (*FORMATS, UNKNOWN_FORMAT)
_PROVIDER_OF = [PROVIDERS.index(m.provider) for m in MODELS]

BODIES: dict[str, Template] = {
    "anthropic": (
        '"input_tokens":', Int("input"), ',"cache_creation_input_tokens":', Int("cache_creation"),
        ',"cache_read_input_tokens":', Int("cache_read"),
        Opt("has_split", (',"cache_creation":{"ephemeral_5m_input_tokens":', Int("write_5m"),
                          ',"ephemeral_1h_input_tokens":', Int("write_1h"), "}")),
        ',"output_tokens":', Int("output"),
        Opt("has_search", (',"server_tool_use":{"web_search_requests":', Int("web_search"), "}")),
    ),
    "openai-chat": (
        '"prompt_tokens":', Int("prompt"), ',"completion_tokens":', Int("output"), ',"total_tokens":', Int("total"),
        ',"prompt_tokens_details":{"cached_tokens":', Int("cache_read"),
        ',"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":', Int("reasoning"),
        ',"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}',
    ),
    "openai-responses": (
        '"input_tokens":', Int("prompt"), ',"input_tokens_details":{"cached_tokens":', Int("cache_read"),
        '},"output_tokens":', Int("output"), ',"output_tokens_details":{"reasoning_tokens":', Int("reasoning"),
        '},"total_tokens":', Int("total"),
    ),
    "gemini": (
        '"promptTokenCount":', Int("prompt"),
        Opt("has_cached", (',"cachedContentTokenCount":', Int("cache_read"))),
        ',"candidatesTokenCount":', Int("candidates"),
        Opt("has_thoughts", (',"thoughtsTokenCount":', Int("reasoning"))),
        Opt("has_tool", (',"toolUsePromptTokenCount":', Int("tool_prompt"))),
        ',"totalTokenCount":', Int("total"),
    ),
    "otel": (
        '"gen_ai.usage.input_tokens":', Int("prompt"), ',"gen_ai.usage.output_tokens":', Int("output"),
        Opt("has_cached", (',"gen_ai.usage.cache_read.input_tokens":', Int("cache_read"))),
        Opt("has_writes", (',"gen_ai.usage.cache_creation.input_tokens":', Int("write_5m"))),
        Opt("has_thoughts", (',"gen_ai.usage.reasoning.output_tokens":', Int("reasoning"))),
    ),
    "buckets": (
        '"input":', Int("input"), ',"output":', Int("output"),
        Opt("has_cached", (',"cache_read":', Int("cache_read"))),
        Opt("has_w5", (',"cache_write_5m":', Int("write_5m"))),
        Opt("has_w1", (',"cache_write_1h":', Int("write_1h"))),
        Opt("has_thoughts", (',"reasoning":', Int("reasoning"))),
        Opt("has_search", (',"web_search":', Int("web_search"))),
    ),
}


def usage_data(v: Cols, fmt: str, customers: int) -> pa.Array:
    """The ``data`` JSON text of each call in ``v`` (see :func:`usage_values`), written in ``fmt``."""
    n = len(v["model"])
    out: list[Piece] = [head(v)]
    if v["has_task"].all():
        out.append(hex_text(n, [',"task_id":"tsk_', v["task_id"], '","prompt_hash":"', v["prompt_hash"], '"']))
    elif v["has_task"].any():
        raise AssertionError("calls of one frame either all belong to tasks or none does")
    out.append(',"usage":{')
    out += pieces(BODIES[fmt], v)
    if fmt == "anthropic":
        out.append(fused([(v["tier"], len(TIERS))], lambda t: f',"service_tier":{q(TIERS[t])}', memo="tier"))
    out.append(attributes(v["project"], v["user"], np.where(v["has_workflow"], v["workflow"], len(WORKFLOWS)),
                          customers, prefix="},"))
    return join(out)


def head(v: Cols) -> pa.Array:
    """``{"provider":…,"model":…[,"usage_format":…][,"service_tier":…]`` as one piece."""

    def compose(model: int, has_format: int, fmt: int, has_tier: int, tier: int) -> str:
        text = f'{{"provider":{q(PROVIDERS[_PROVIDER_OF[model]])},"model":{q(MODELS[model].name)}'
        if has_format:
            text += f',"usage_format":{q(ALL_FORMATS[fmt])}'
        if has_tier:
            text += f',"service_tier":{q(TIERS[tier])}'
        return text

    return fused([(v["model"], len(MODELS)), (v["has_format"], 2), (v["format"], len(ALL_FORMATS)),
                  (v["has_tier"], 2), (v["tier"], len(TIERS))], compose, memo="head")


def attributes(project: np.ndarray, user: np.ndarray, workflow: np.ndarray, customers: int,
               prefix: str = "") -> pa.Array:
    """``prefix"attributes":{…}}`` closing the event data; ``workflow`` = len(WORKFLOWS) leaves it out."""

    def compose(p: int, u: int, w: int) -> str:
        c, k = divmod(u, USERS_PER_CUSTOMER)
        text = (f'{prefix}"attributes":{{"team":{q(TEAMS[p // 3])},"project":{q(PROJECT_NAMES[p])},'
                f'"user":"u_{c + 1:04d}_{k:02d}"')
        return text + (f',"workflow":{q(WORKFLOWS[w].name)}}}}}' if w < len(WORKFLOWS) else "}}")

    return fused([(project, len(PROJECT_NAMES)), (user, customers * USERS_PER_CUSTOMER),
                  (workflow, len(WORKFLOWS) + 1)], compose, memo=f"attributes/{customers}/{prefix}")


def usage_values(c: Cols, fmt: str) -> Cols:
    """Field values and group masks for the calls ``c``, all written in ``fmt``."""
    prompt, read, w5, w1 = c["prompt"], c["cache_read"], c["write_5m"], c["write_1h"]
    out, reasoning, tool = c["output"], c["reasoning"], c["tool_prompt"]
    v: Cols = dict(c)
    v["input"] = prompt - read - w5 - w1 + tool
    v["cache_creation"] = w5 + w1
    v["total"] = prompt + out + tool
    v["candidates"] = out - reasoning
    v["prompt"] = prompt + (tool if fmt == "otel" else 0)
    v["has_cached"], v["has_thoughts"], v["has_tool"] = read > 0, reasoning > 0, tool > 0
    v["has_writes"], v["has_w5"], v["has_w1"] = w5 > 0, w5 > 0, w1 > 0
    v["has_search"] = c["web_search"] > 0
    v["has_task"] = v["has_hash"] = c["task"] >= 0
    v["has_workflow"] = c["workflow"] < len(WORKFLOWS)
    v["workflow"] = np.minimum(c["workflow"], len(WORKFLOWS) - 1)
    _break_rules(v, c.get("bad"))
    return v


def _break_rules(v: Cols, bad: np.ndarray | None) -> None:
    """Apply each bad kind's one broken rule (the rows' formats are forced to match)."""
    if bad is None:
        return
    neg = bad == BAD_KINDS.index("negative_tokens")
    v["output"] = np.where(neg, -np.maximum(v["output"], 1), v["output"])
    over = bad == BAD_KINDS.index("cached_exceeds_prompt")
    v["cache_read"] = np.where(over, v["prompt"] + 1 + v["prompt"] % 499, v["cache_read"])
    think = bad == BAD_KINDS.index("reasoning_exceeds_output")
    v["reasoning"] = np.where(think, v["output"] + 1 + v["output"] % 499, v["reasoning"])


def task_data(v: Cols, customers: int, outcome: bool) -> pa.Array:
    """The ``data`` JSON text of task events: lifecycle events, or outcomes when ``outcome``."""
    n = len(v["task_id"])
    parent = masked(hex_text(n, [',"parent_task_id":"tsk_', v["parent_id"], '"']), np.asarray(v["has_parent"]))
    if outcome:
        def compose_outcome(w: int, o: int, has_value: int, value: int, confirmed: int) -> str:
            money = f',"value":{q(VALUES[value])},"currency":"USD"' if has_value else ""
            return (f',"workflow":{q(WORKFLOWS[w].name)},"outcome":{q(OUTCOMES[o])}{money},'
                    f'"confirmed":{"true" if confirmed else "false"},')

        middle = fused([(v["workflow"], len(WORKFLOWS)), (v["outcome"], len(OUTCOMES)), (v["has_value"], 2),
                        (v["value"], len(VALUES)), (v["confirmed"], 2)], compose_outcome, memo="outcome")
    else:
        def compose_lifecycle(w: int, has_reason: int, reason: int) -> str:
            why = f',"reason":{q(REASONS[reason])}' if has_reason else ""
            return f',"workflow":{q(WORKFLOWS[w].name)}{why},'

        middle = fused([(v["workflow"], len(WORKFLOWS)), (v["has_reason"], 2), (v["reason"], len(REASONS))],
                       compose_lifecycle, memo="lifecycle")
    no_workflow = np.full(n, len(WORKFLOWS))
    return join([hex_text(n, ['{"task_id":"tsk_', v["task_id"], '"']), parent, middle,
                 attributes(v["project"], v["user"], no_workflow, customers)])
