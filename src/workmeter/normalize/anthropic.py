"""Anthropic Messages usage (``usage_format = "anthropic"``).

The usage object of ``POST /v1/messages``::

    {"input_tokens": 50, "output_tokens": 700,
     "cache_creation_input_tokens": 3000, "cache_read_input_tokens": 12000,
     "cache_creation": {"ephemeral_5m_input_tokens": 1000,
                        "ephemeral_1h_input_tokens": 2000},
     "output_tokens_details": {"thinking_tokens": 400},
     "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 0}}

Inclusion rules (what is inside what):

- ``input_tokens`` EXCLUDES every cache token: it is the uncached input,
  ``input = input_tokens``. ``cache_read = cache_read_input_tokens``.
- ``cache_creation_input_tokens`` is the total written to the cache; the
  ``cache_creation`` object splits it by TTL. ``cache_write_1h =
  ephemeral_1h_input_tokens`` and ``cache_write_5m`` gets the rest of the
  total (``total − ephemeral_1h``): with no split given every write is a
  5-minute write (the default TTL), and a split that sums to less than the
  total leaves the remainder at the 5-minute rate. A split that sums to MORE
  than the total is rejected. When only the split is given, the total is
  ``5m + 1h``.
- ``output_tokens`` INCLUDES extended thinking: ``output = output_tokens``;
  ``reasoning = output_tokens_details.thinking_tokens`` when reported
  (informational, never added again).
- ``server_tool_use.web_search_requests`` → ``web_search`` (requests, not tokens).
  ``web_fetch_requests`` and ``service_tier`` are not counted here.

Rejected: a cache split larger than ``cache_creation_input_tokens``,
``thinking_tokens > output_tokens``, and any count that is not a non-negative
integer (see :mod:`workmeter.normalize.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workmeter.normalize.buckets import Buckets
from workmeter.normalize.fields import Counts, describe, ensure, exceeds, read_counts
from workmeter.normalize.sqlcounts import Reader, bind_buckets, bind_problems

FORMAT = "anthropic"

INPUT = ("input_tokens",)
CACHE_WRITE = ("cache_creation_input_tokens",)
CACHE_READ = ("cache_read_input_tokens",)
WRITE_5M = ("cache_creation", "ephemeral_5m_input_tokens")
WRITE_1H = ("cache_creation", "ephemeral_1h_input_tokens")
OUTPUT = ("output_tokens",)
THINKING = ("output_tokens_details", "thinking_tokens")
WEB_SEARCH = ("server_tool_use", "web_search_requests")
FIELDS = (INPUT, CACHE_WRITE, CACHE_READ, WRITE_5M, WRITE_1H, OUTPUT, THINKING, WEB_SEARCH)

SPLIT_EXCEEDS_TOTAL = exceeds(f"{describe(WRITE_5M)} + {describe(WRITE_1H)}", describe(CACHE_WRITE))
THINKING_EXCEEDS_OUTPUT = exceeds(describe(THINKING), describe(OUTPUT))


def _write_total(c: Counts) -> int:
    return c[CACHE_WRITE] if c.given(CACHE_WRITE) else c[WRITE_5M] + c[WRITE_1H]


def normalize(usage: Mapping[str, Any]) -> Buckets:
    """Exclusive buckets of one Anthropic usage object; InvalidUsage if inconsistent."""
    c = read_counts(usage, FIELDS)
    total = _write_total(c)
    ensure(c[WRITE_5M] + c[WRITE_1H] <= total, SPLIT_EXCEEDS_TOTAL)
    ensure(c[THINKING] <= c[OUTPUT], THINKING_EXCEEDS_OUTPUT)
    return Buckets(
        input=c[INPUT],
        cache_read=c[CACHE_READ],
        cache_write_5m=total - c[WRITE_1H],
        cache_write_1h=c[WRITE_1H],
        output=c[OUTPUT],
        reasoning=c[THINKING],
        web_search=c[WEB_SEARCH],
    )


def _write_total_sql(x: Reader) -> str:
    # branch-free "total if given else 5m + 1h"
    given = f"{x.given(CACHE_WRITE)}::BIGINT"
    split = f"({x.count(WRITE_5M)} + {x.count(WRITE_1H)})"
    return f"({given} * {x.count(CACHE_WRITE)} + (1 - {given}) * {split})"


def buckets_from(x: Reader) -> dict[str, str]:
    """BIGINT expression per count name, over the counts ``x`` reads."""
    return {
        "input": x.count(INPUT),
        "cache_read": x.count(CACHE_READ),
        "cache_write_5m": f"{_write_total_sql(x)} - {x.count(WRITE_1H)}",
        "cache_write_1h": x.count(WRITE_1H),
        "output": x.count(OUTPUT),
        "reasoning": x.count(THINKING),
        "web_search": x.count(WEB_SEARCH),
    }


def checks_from(x: Reader) -> list[tuple[str, str]]:
    """(condition, reason) pairs checked after the fields, in the order :func:`normalize` checks them."""
    return [
        (f"{x.count(WRITE_5M)} + {x.count(WRITE_1H)} > {_write_total_sql(x)}", SPLIT_EXCEEDS_TOTAL),
        (f"{x.count(THINKING)} > {x.count(OUTPUT)}", THINKING_EXCEEDS_OUTPUT),
    ]


def sql_buckets(u: str) -> dict[str, str]:
    """BIGINT SQL expression per name in ALL_COUNTS, for the JSON usage expression ``u``."""
    return bind_buckets(u, FIELDS, buckets_from)


def sql_problems(u: str) -> list[tuple[str, str]]:
    """(SQL condition, reason) pairs; the first true one rejects the usage object."""
    return bind_problems(u, FIELDS, checks_from)
