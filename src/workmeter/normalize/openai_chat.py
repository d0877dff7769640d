"""OpenAI Chat Completions usage (``usage_format = "openai-chat"``).

The usage object of ``POST /v1/chat/completions``::

    {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
     "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
     "completion_tokens_details": {"reasoning_tokens": 256, "audio_tokens": 0,
                                   "accepted_prediction_tokens": 0,
                                   "rejected_prediction_tokens": 0}}

Inclusion rules (what is inside what):

- ``prompt_tokens`` INCLUDES ``prompt_tokens_details.cached_tokens``, so
  ``input = prompt_tokens − cached_tokens`` and ``cache_read = cached_tokens``.
  OpenAI writes its prompt cache automatically at no extra charge: the cache
  write buckets stay 0.
- ``completion_tokens`` INCLUDES ``completion_tokens_details.reasoning_tokens``,
  so ``output = completion_tokens`` and ``reasoning = reasoning_tokens``
  (informational, never added again).
- Audio and prediction sub-counts sit inside their totals and are not split
  out; ``total_tokens`` is informational and not read.

Rejected: ``cached_tokens > prompt_tokens``, ``reasoning_tokens > completion_tokens``,
and any count that is not a non-negative integer (see :mod:`workmeter.normalize.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workmeter.normalize.buckets import Buckets
from workmeter.normalize.inclusive import InclusiveFormat
from workmeter.normalize.sqlcounts import Reader

FORMAT = "openai-chat"

RULES = InclusiveFormat(
    input_total=("prompt_tokens",),
    cache_read=("prompt_tokens_details", "cached_tokens"),
    output_total=("completion_tokens",),
    reasoning=("completion_tokens_details", "reasoning_tokens"),
)
FIELDS = RULES.fields


def normalize(usage: Mapping[str, Any]) -> Buckets:
    """Exclusive buckets of one Chat Completions usage object; InvalidUsage if inconsistent."""
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
