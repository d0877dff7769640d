"""Provider usage → exclusive buckets.

Each usage format has one module that writes down the provider's inclusion
rules and implements them twice, identically: ``normalize`` in Python (one
event, for quotes, the gateway and tests) and SQL for DuckDB (millions of
events, inside the ledger's ingest). See :mod:`workmeter.normalize.buckets`
for the buckets and :mod:`workmeter.normalize.fields` for what a valid count is.

==================  ==========================================
``anthropic``       :mod:`workmeter.normalize.anthropic`
``openai-chat``     :mod:`workmeter.normalize.openai_chat`
``openai-responses`` :mod:`workmeter.normalize.openai_responses`
``gemini``          :mod:`workmeter.normalize.gemini`
``otel``            :mod:`workmeter.normalize.otel`
``buckets``         :mod:`workmeter.normalize.direct`
==================  ==========================================
"""

from __future__ import annotations

from workmeter.normalize.buckets import (
    ALL_COUNTS,
    DEFAULT_FORMAT_BY_PROVIDER,
    PRICED_BUCKETS,
    TOKEN_BUCKETS,
    USAGE_FORMATS,
    Buckets,
    implied_format,
)
from workmeter.normalize.registry import FORMATS, normalize, resolve_format
from workmeter.normalize.sql import (
    bucket_columns_sql,
    format_sql,
    normalized_sql,
    problem_sql,
    usage_row_sql,
)

__all__ = [
    "ALL_COUNTS",
    "DEFAULT_FORMAT_BY_PROVIDER",
    "FORMATS",
    "PRICED_BUCKETS",
    "TOKEN_BUCKETS",
    "USAGE_FORMATS",
    "Buckets",
    "bucket_columns_sql",
    "format_sql",
    "implied_format",
    "normalize",
    "normalized_sql",
    "problem_sql",
    "resolve_format",
    "usage_row_sql",
]
