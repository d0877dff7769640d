"""OpenAI Responses API usage (``usage_format = "openai-responses"``).

The usage object of ``POST /v1/responses`` (also used by the Batch API)::

    {"input_tokens": 5000, "output_tokens": 900, "total_tokens": 5900,
     "input_tokens_details": {"cached_tokens": 4096},
     "output_tokens_details": {"reasoning_tokens": 640}}

Inclusion rules (what is inside what):

- ``input_tokens`` INCLUDES ``input_tokens_details.cached_tokens``, so
  ``input = input_tokens − cached_tokens`` and ``cache_read = cached_tokens``.
  The prompt cache is written automatically at no extra charge: the cache write
  buckets stay 0.
- ``output_tokens`` INCLUDES ``output_tokens_details.reasoning_tokens``, so
  ``output = output_tokens`` and ``reasoning = reasoning_tokens``
  (informational, never added again).
- ``total_tokens`` is informational and not read. Built-in tool calls (web
  search, file search) are not in the usage object; they are not counted here.

Rejected: ``cached_tokens > input_tokens``, ``reasoning_tokens > output_tokens``,
and any count that is not a non-negative integer (see :mod:`workmeter.normalize.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workmeter.normalize.buckets import Buckets
from workmeter.normalize.inclusive import InclusiveFormat
from workmeter.normalize.sqlcounts import Reader

FORMAT = "openai-responses"

RULES = InclusiveFormat(
    input_total=("input_tokens",),
    cache_read=("input_tokens_details", "cached_tokens"),
    output_total=("output_tokens",),
    reasoning=("output_tokens_details", "reasoning_tokens"),
)
FIELDS = RULES.fields


def normalize(usage: Mapping[str, Any]) -> Buckets:
    """Exclusive buckets of one Responses API usage object; InvalidUsage if inconsistent."""
    return RULES.normalize(usage)


def buckets_from(x: Reader) -> dict[str, str]:
    """BIGINT expression per count name, over the counts ``x`` reads."""
    return RULES.buckets_from(x)


def checks_from(x: Reader) -> list[tuple[str, str]]:
    """(condition, reason) pairs checked after the fields, in the order :func:`normalize` checks them."""
    return RULES.checks_from(x)


def sql_buckets(u: str) -> dict[str, str]:
    """BIGINT SQL expression per name in ALL_COUNTS, for the JSON usage expression ``u``."""
    return RULES.sql_buckets(u)


def sql_problems(u: str) -> list[tuple[str, str]]:
    """(SQL condition, reason) pairs; the first true one rejects the usage object."""
    return RULES.sql_problems(u)
