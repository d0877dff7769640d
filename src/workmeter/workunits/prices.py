"""Prices the waste finders need beyond the rated line: the cache-read price of a call.

A repeated, uncached input would have cost ``input × cache_read_price`` had it
been served from the prompt cache. The price is read from the very rate card
that rated the call: the card of the call's rating run for its (provider,
model, service tier) whose validity, time-of-day window and input-size tier
contain the call (the cache-read would not change the call's total input, so
the same tier applies). The match mirrors the join of the ``rated_events``
view in :mod:`workmeter.rating.store`. A card without a cache-read price leaves
the saving unestimated (never guessed).
"""

from __future__ import annotations

import duckdb

_DAY = 86_400_000_000

ATTACH_CACHE_PRICES = f"""
UPDATE _wm_ph p SET cache_read_price = c.p_cache_read
FROM rate_cards c
WHERE c.run_id = p.rating_run
  AND c.provider = coalesce(p.provider, '') AND c.model = coalesce(p.model, '')
  AND c.service_tier = coalesce(p.service_tier, '')
  AND p.time >= c.valid_from AND p.time < c.valid_to
  AND (epoch_us(p.time) % {_DAY} + {_DAY}) % {_DAY} >= c.tod_lo
  AND (epoch_us(p.time) % {_DAY} + {_DAY}) % {_DAY} < c.tod_hi
  AND p.total_input >= c.in_lo AND p.total_input < c.in_hi
"""


def attach_cache_prices(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``_wm_ph.cache_read_price`` from the rate cards (no-op without them)."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'rate_cards'").fetchone()
    if found and found[0]:
        con.execute(ATTACH_CACHE_PRICES)
