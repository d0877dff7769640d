"""Google Gemini usage (``usage_format = "gemini"``).

The ``usageMetadata`` of a ``generateContent`` response (REST, camelCase)::

    {"promptTokenCount": 9000, "cachedContentTokenCount": 8000,
     "candidatesTokenCount": 300, "thoughtsTokenCount": 1200,
     "toolUsePromptTokenCount": 150, "totalTokenCount": 10650}

The snake_case spelling of the Python SDK (``prompt_token_count``,
``cached_content_token_count``, ``candidates_token_count``,
``thoughts_token_count``, ``tool_use_prompt_token_count``) is accepted too; when
both spellings of a count are present the camelCase one is used (both must be
valid counts).

Inclusion rules (what is inside what):

- ``promptTokenCount`` INCLUDES ``cachedContentTokenCount`` (the prompt size
  stays the full effective prompt when cached content is used):
  ``cache_read = cachedContentTokenCount``.
- ``toolUsePromptTokenCount`` (tool results fed back to the model) is NOT in
  ``promptTokenCount``; it is billed as input and added:
  ``input = promptTokenCount − cachedContentTokenCount + toolUsePromptTokenCount``.
- ``thoughtsTokenCount`` is NOT in ``candidatesTokenCount``; thinking is billed
  as output, so ``output = candidatesTokenCount + thoughtsTokenCount`` and
  ``reasoning = thoughtsTokenCount`` (informational).
- ``totalTokenCount`` (= prompt + tool use + candidates + thoughts) and the
  per-modality details are informational and not read. Explicit context-cache
  storage is billed per hour outside the request: no cache write buckets.

Rejected: ``cachedContentTokenCount > promptTokenCount`` and any count that is
not a non-negative integer (see :mod:`workmeter.normalize.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workmeter.normalize.buckets import Buckets
from workmeter.normalize.fields import Counts, Path, describe, ensure, exceeds, read_counts
from workmeter.normalize.sqlcounts import Reader, bind_buckets, bind_problems

FORMAT = "gemini"

#: (camelCase, snake_case) spelling of each count read.
PROMPT = (("promptTokenCount",), ("prompt_token_count",))
CACHED = (("cachedContentTokenCount",), ("cached_content_token_count",))
CANDIDATES = (("candidatesTokenCount",), ("candidates_token_count",))
THOUGHTS = (("thoughtsTokenCount",), ("thoughts_token_count",))
TOOL_USE = (("toolUsePromptTokenCount",), ("tool_use_prompt_token_count",))
FIELDS: tuple[Path, ...] = tuple(
    spelling for pair in (PROMPT, CACHED, CANDIDATES, THOUGHTS, TOOL_USE) for spelling in pair
)

CACHED_EXCEEDS_PROMPT = exceeds(describe(CACHED[0]), describe(PROMPT[0]))


def _pick(c: Counts, pair: tuple[Path, Path]) -> int:
    camel, snake = pair
    return c[camel] if c.given(camel) else c[snake]


def normalize(usage: Mapping[str, Any]) -> Buckets:
    """Exclusive buckets of one Gemini ``usageMetadata``; InvalidUsage if inconsistent."""
    c = read_counts(usage, FIELDS)
    prompt, cached = _pick(c, PROMPT), _pick(c, CACHED)
    thoughts = _pick(c, THOUGHTS)
    ensure(cached <= prompt, CACHED_EXCEEDS_PROMPT)
    return Buckets(
        input=prompt - cached + _pick(c, TOOL_USE),
        cache_read=cached,
        output=_pick(c, CANDIDATES) + thoughts,
        reasoning=thoughts,
    )


def _pick_sql(x: Reader, pair: tuple[Path, Path]) -> str:
    camel, snake = pair
    given = f"{x.given(camel)}::BIGINT"
    return f"({given} * {x.count(camel)} + (1 - {given}) * {x.count(snake)})"


def buckets_from(x: Reader) -> dict[str, str]:
    """BIGINT expression per count name, over the counts ``x`` reads."""
    cached = _pick_sql(x, CACHED)
    return {
        "input": f"{_pick_sql(x, PROMPT)} - {cached} + {_pick_sql(x, TOOL_USE)}",
        "cache_read": cached,
        "cache_write_5m": "0",
        "cache_write_1h": "0",
        "output": f"{_pick_sql(x, CANDIDATES)} + {_pick_sql(x, THOUGHTS)}",
        "reasoning": _pick_sql(x, THOUGHTS),
        "web_search": "0",
    }


def checks_from(x: Reader) -> list[tuple[str, str]]:
    """(condition, reason) pairs checked after the fields, in the order :func:`normalize` checks them."""
    return [
        (f"{_pick_sql(x, CACHED)} > {_pick_sql(x, PROMPT)}", CACHED_EXCEEDS_PROMPT),
    ]


def sql_buckets(u: str) -> dict[str, str]:
    """BIGINT SQL expression per name in ALL_COUNTS, for the JSON usage expression ``u``."""
    return bind_buckets(u, FIELDS, buckets_from)


def sql_problems(u: str) -> list[tuple[str, str]]:
    """(SQL condition, reason) pairs; the first true one rejects the usage object."""
    return bind_problems(u, FIELDS, checks_from)
