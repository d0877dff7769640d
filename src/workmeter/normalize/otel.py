"""OpenTelemetry GenAI usage (``usage_format = "otel"``).

The usage object is the flat mapping of GenAI semantic-convention span
attributes (as an OTLP receiver collects them from a span)::

    {"gen_ai.usage.input_tokens": 1500,
     "gen_ai.usage.cache_read.input_tokens": 1000,
     "gen_ai.usage.cache_creation.input_tokens": 200,
     "gen_ai.usage.output_tokens": 400,
     "gen_ai.usage.reasoning.output_tokens": 150}

Inclusion rules, as the current GenAI conventions state them:

- ``gen_ai.usage.input_tokens`` SHOULD include all kinds of input tokens,
  cached ones included; ``gen_ai.usage.cache_read.input_tokens`` (served from
  a provider-managed cache) and ``gen_ai.usage.cache_creation.input_tokens``
  (written to it) SHOULD both be included in it. So
  ``input = input_tokens − cache_read − cache_creation``,
  ``cache_read = cache_read.input_tokens``, and
  ``cache_write_5m = cache_creation.input_tokens`` (the conventions carry no
  cache TTL; 5 minutes is the standard one).
- ``gen_ai.usage.reasoning.output_tokens`` SHOULD be included in
  ``gen_ai.usage.output_tokens``: ``output = output_tokens``,
  ``reasoning = reasoning.output_tokens`` (informational).
- Other attributes in the mapping (model, operation, …) are ignored.

Rejected: cache_read + cache_creation > input_tokens, reasoning > output_tokens,
and any count that is not a non-negative integer (OTLP/JSON writes int64 as
strings: a receiver converts them; ``"12"`` here is rejected).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workmeter.normalize.buckets import Buckets
from workmeter.normalize.inclusive import InclusiveFormat
from workmeter.normalize.sqlcounts import Reader

FORMAT = "otel"

RULES = InclusiveFormat(
    input_total=("gen_ai.usage.input_tokens",),
    cache_read=("gen_ai.usage.cache_read.input_tokens",),
    cache_write=("gen_ai.usage.cache_creation.input_tokens",),
    output_total=("gen_ai.usage.output_tokens",),
    reasoning=("gen_ai.usage.reasoning.output_tokens",),
)
FIELDS = RULES.fields


def normalize(usage: Mapping[str, Any]) -> Buckets:
    """Exclusive buckets of one mapping of GenAI usage attributes; InvalidUsage if inconsistent."""
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
