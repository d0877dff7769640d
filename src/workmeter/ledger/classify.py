"""Classifying a staged batch against the ledger, and appending what is new.

After staging (:mod:`workmeter.ledger.stage`) the batch is a temp table ``_stage``
(one row per event, ``reason`` NULL when valid). :func:`classify_sql` builds
``_cls``: one status per valid event (``accepted``, ``duplicate``, ``conflict``),
the payload hash it was compared to, and for accepted events their ``seq``, dense
and in batch order after the last one handed out (:data:`BASE`).
:func:`insert_events_sql` appends the accepted rows to ``events``.
"""

from __future__ import annotations

from functools import lru_cache

from workmeter.store.schema import EVENT_COLUMNS, META_CELLS, fill_rate_keys_sql, stored_cell_sql

#: Stored events with the key of a valid staged event: key_hash first (one integer column),
#: then source, id and payload hash only for the rows it found.
_SEEN = """
SELECT e.key_hash, e.source, e.id, e.payload_hash FROM events e
SEMI JOIN (SELECT x.rowid AS r FROM events x SEMI JOIN {keys} k ON x.key_hash = k.key_hash) h ON e.rowid = h.r
"""


def classify_sql(seen_in_stage: bool, base: str) -> str:
    """``_cls``: the status of every valid staged event, its seq when accepted, the hash it is compared to.

    A stored key decides first (same payload hash: duplicate, else conflict); among new keys
    the first occurrence in the batch is accepted and later ones are compared to it (keys
    repeated in the batch are found by key_hash first, an integer aggregate, then exactly).
    """
    if seen_in_stage:
        valid = "SELECT pos, key_hash, source, id, payload_hash, seen_hash FROM _stage WHERE reason IS NULL"
    else:
        keys = "(SELECT key_hash FROM _stage WHERE reason IS NULL)"
        valid = (f"SELECT s.pos, s.key_hash, s.source, s.id, s.payload_hash, x.payload_hash AS seen_hash "
                 f"FROM _stage s LEFT JOIN ({_SEEN.format(keys=keys)}) x "
                 f"ON x.key_hash = s.key_hash AND x.source = s.source AND x.id = s.id WHERE s.reason IS NULL")
    return f"""
CREATE OR REPLACE TEMP TABLE _cls AS
WITH s AS ({valid}),
multi AS (SELECT key_hash FROM s WHERE seen_hash IS NULL GROUP BY key_hash HAVING count(*) > 1),
repeated AS (
  SELECT s.key_hash, s.source, s.id, min(s.pos) AS first_pos, arg_min(s.payload_hash, s.pos) AS first_hash
  FROM s SEMI JOIN multi m ON m.key_hash = s.key_hash WHERE s.seen_hash IS NULL
  GROUP BY s.key_hash, s.source, s.id HAVING count(*) > 1
),
c AS (
  SELECT s.pos, s.source, s.id, s.payload_hash,
         CASE WHEN s.seen_hash = s.payload_hash THEN 'duplicate'
              WHEN s.seen_hash IS NOT NULL THEN 'conflict'
              WHEN r.first_pos IS NULL OR r.first_pos = s.pos THEN 'accepted'
              WHEN r.first_hash = s.payload_hash THEN 'duplicate'
              ELSE 'conflict' END AS status,
         coalesce(s.seen_hash, r.first_hash) AS existing_hash
  FROM s LEFT JOIN repeated r ON r.key_hash = s.key_hash AND r.source = s.source AND r.id = s.id
)
SELECT *, CASE WHEN status = 'accepted'
               THEN {base} + row_number() OVER (PARTITION BY status = 'accepted' ORDER BY pos) END AS seq
FROM c
"""


#: Staged usage events without a rate key yet: their (provider, model, service_tier) is new.
_KEYLESS = "_stage s WHERE s.rate_key IS NULL AND s.type = 'llm.usage' AND s.reason IS NULL"
#: The last seq handed out (meta ``next_seq``), 0 for an empty ledger.
BASE = "(SELECT coalesce(max(CAST(value AS BIGINT)), 0) FROM meta WHERE key = 'next_seq')"
#: base, then accepted / duplicates / conflicts / rejected / keyless of the staged batch, and the
#: layout of the stored price cells.
COUNTS = f"""
SELECT {BASE}, count(*) FILTER (WHERE status = 'accepted'), count(*) FILTER (WHERE status = 'duplicate'),
       count(*) FILTER (WHERE status = 'conflict'), (SELECT count(*) FROM _stage WHERE reason IS NOT NULL),
       (SELECT count(*) FROM {_KEYLESS}), (SELECT value FROM meta WHERE key = '{META_CELLS}')
FROM _cls
"""
_EVENT_COLS = [name for name, _ in EVENT_COLUMNS]


@lru_cache(maxsize=8)
def insert_events_sql(layout: str | None) -> str:
    """Appends the accepted events, each usage event with its rate key and its cell under the
    ``layout`` ``meta`` stores (``rate_cells``)."""
    cols = ", ".join(f'"{c}"' for c in _EVENT_COLS)
    exprs = {"seq": "c.seq", "ingested_at": "now()", "rate_cell": stored_cell_sql(layout, "s.")}
    select = ", ".join(exprs.get(c, f's."{c}"') for c in _EVENT_COLS)
    return (f"INSERT INTO events ({cols}) SELECT {select} "
            "FROM _stage s JOIN _cls c ON c.pos = s.pos WHERE c.status = 'accepted'")


#: When :data:`COUNTS` finds keyless events: number the new keys of the accepted ones, then give
#: every keyless staged event its key (before :func:`insert_events_sql`).
NEW_USAGE_KEYS = fill_rate_keys_sql(
    "_stage", "_stage.reason IS NULL AND _stage.pos IN (SELECT pos FROM _cls WHERE status = 'accepted')")
