"""The ledger's tables. Only ``store`` and the composition root know SQL dialects.

``events`` is append-only: a row is never deleted, and its record is never
updated (only the derived ``rate_cell``, a cache of its price cell, is). Corrections
(void / amend) are rows in ``corrections``; the view ``live_events`` applies
them (latest correction per event wins; a void drops the event, an amend
replaces its payload). Every report reads ``live_events``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache

#: Columns of an event row, in order. Usage columns are NULL for generic events.
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("seq", "BIGINT"),               # ingest order, unique, assigned by the writer
    ("key_hash", "UBIGINT"),         # hash(source, id): the dedup join key
    ("source", "VARCHAR"),
    ("id", "VARCHAR"),
    ("type", "VARCHAR"),
    ("subject", "VARCHAR"),          # the customer
    ("time", "TIMESTAMPTZ"),
    ("ingested_at", "TIMESTAMPTZ"),
    ("payload_hash", "UBIGINT"),     # tells an exact re-send from a conflict
    ("provider", "VARCHAR"),
    ("model", "VARCHAR"),
    ("usage_format", "VARCHAR"),
    ("service_tier", "VARCHAR"),
    ("task_id", "VARCHAR"),
    ("input", "BIGINT"),
    ("cache_read", "BIGINT"),
    ("cache_write_5m", "BIGINT"),
    ("cache_write_1h", "BIGINT"),
    ("output", "BIGINT"),
    ("reasoning", "BIGINT"),
    ("web_search", "BIGINT"),
    ("team", "VARCHAR"),             # promoted attributes, for fast group-by
    ("project", "VARCHAR"),
    ("workflow", "VARCHAR"),
    ("user", "VARCHAR"),
    ("attributes", "JSON"),          # all attributes (string → string)
    # the raw event data, usage object included (audit); zstd: 4x smaller and 3x cheaper to
    # write than the automatic choice (dictionary + FSST) on event JSON
    ("data", "JSON USING COMPRESSION zstd"),
    # data.prompt_hash of a usage event (retry and cache-waste findings group by it); last, so
    # files migrated from layout 1 (ADD COLUMN appends) have the same column order as new ones
    ("prompt_hash", "VARCHAR"),
    # the event's (provider, model, service_tier) as a small dense integer (``usage_keys``), set
    # on usage events at ingest: the rater picks prices by it without comparing strings
    ("rate_key", "INTEGER"),
    # the usage event's price cell under the current cards' layout (``rating.keyed``): derived
    # from the columns above, set at ingest and rewritten when the current cards change, never
    # part of the event's record; 0 on other events (NULL: not computed, reports compute it)
    ("rate_cell", "INTEGER"),
)

#: ``meta`` key of the layout the stored ``rate_cell`` values follow (JSON: rate key → cell SQL)
META_CELLS = "rate_cells"
CELL_PREFIX = "{t}"  # the column prefix (a table alias and a dot, or nothing) in a layout's cell SQL


def cell_sql(branches: Mapping[str, str], prefix: str = "") -> str:
    """A usage row's cell under a layout's ``branches`` (columns read as ``prefix``"name")."""
    key = f'{prefix}"rate_key"'
    if not branches:
        return key
    whens = " ".join(f"WHEN {k} THEN {branches[k]}" for k in sorted(branches, key=int))
    return f"(CASE {key} {whens} ELSE {key} END)".replace(CELL_PREFIX, prefix)


@lru_cache(maxsize=8)
def stored_cell_sql(meta_value: str | None, prefix: str = "") -> str:
    """The cell the ledger stores for a row under the layout ``meta`` stores (a key's own number
    when it stores none): 0 for an event without a rate key (not a usage event)."""
    branches = json.loads(meta_value) if meta_value else None
    return f"coalesce({cell_sql(branches or {}, prefix)}, 0)"


PROMOTED_ATTRIBUTES: tuple[str, ...] = ("team", "project", "workflow", "user")

#: The layout version of a database file (meta ``schema_version``). A file records the version
#: that created it; opening runs :data:`MIGRATIONS` from its version up to this one, in order,
#: and refuses a file written by a newer workmeter rather than misreading it.
SCHEMA_VERSION = 4
_PROMPT_HASH = "data->>'$.prompt_hash'"
#: (provider, model, service_tier) of a usage row, as stored (NULL: absent), equal to a usage key's
_SAME_KEY = ("u.provider IS NOT DISTINCT FROM {t}.provider AND u.model IS NOT DISTINCT FROM {t}.model "
             "AND u.service_tier IS NOT DISTINCT FROM {t}.service_tier")
USAGE_KEYS_DDL = """CREATE TABLE IF NOT EXISTS usage_keys (
    "key_id" INTEGER PRIMARY KEY, "provider" VARCHAR, "model" VARCHAR, "service_tier" VARCHAR)"""


def new_usage_keys_sql(rows: str) -> str:
    """Add to ``usage_keys`` the (provider, model, service_tier) of ``rows`` (a relation of usage
    rows) that it lacks, numbered on from the largest ``key_id``. Run it in the writer's transaction
    (ids are dense and never reused)."""
    return f"""
INSERT INTO usage_keys
SELECT (SELECT coalesce(max(key_id), 0) FROM usage_keys)
       + row_number() OVER (ORDER BY n.provider, n.model, n.service_tier)::INTEGER, n.*
FROM (SELECT DISTINCT provider, model, service_tier FROM {rows}) n
WHERE NOT EXISTS (SELECT 1 FROM usage_keys u WHERE {same_usage_key("n")})"""


def same_usage_key(t: str) -> str:
    """``u`` (a ``usage_keys`` row) is the key of usage row ``t``."""
    return _SAME_KEY.format(t=t)


def rate_key_join(t: str) -> str:
    """``LEFT JOIN usage_keys u`` on the key of usage row ``t`` (``u.key_id``: its rate_key)."""
    return f"LEFT JOIN usage_keys u ON {t}.type = 'llm.usage' AND {same_usage_key(t)}"


def fill_rate_keys_sql(table: str, where: str = "TRUE") -> tuple[str, str]:
    """Statements giving the usage rows of ``table`` without a rate key theirs: number the keys
    ``usage_keys`` lacks (of the rows that also match ``where``), then set every keyless row's."""
    keyless = f"{table}.type = 'llm.usage' AND {table}.rate_key IS NULL"
    return (new_usage_keys_sql(f"(SELECT provider, model, service_tier FROM {table} WHERE {keyless} AND ({where}))"),
            f"UPDATE {table} SET rate_key = u.key_id FROM usage_keys u WHERE {keyless} AND {same_usage_key(table)}")


#: Statements giving every usage row of ``events`` and ``corrections`` without a rate_key its key
#: (rows written by the ledger have one; the layout 3 migration and direct inserts use this).
FILL_RATE_KEYS: tuple[str, ...] = (*fill_rate_keys_sql("events"), *fill_rate_keys_sql("corrections"))
#: version → statements that move a file from that version to the next.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 1 → 2: data.prompt_hash promoted to a column, filled in for the events already stored
    1: tuple(stmt for table in ("events", "corrections") for stmt in (
        f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "prompt_hash" VARCHAR',
        f"UPDATE {table} SET prompt_hash = {_PROMPT_HASH} "
        "WHERE type = 'llm.usage' AND contains(CAST(data AS VARCHAR), 'prompt_hash')")),
    # 2 → 3: the dense rate key of every usage event (usage_keys is created before migrations run)
    # and every correction carries the seq of the event it corrects (live_events matches on it)
    2: (*(f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "rate_key" INTEGER' for table in ("events", "corrections")),
        *FILL_RATE_KEYS,
        "UPDATE corrections SET seq = e.seq FROM events e WHERE e.source = corrections.source "
        "AND e.id = corrections.id AND corrections.seq IS DISTINCT FROM e.seq",
        # rate cards no longer carry a per-row quantity limit (overflow is checked per product)
        *(f"ALTER TABLE IF EXISTS {t} DROP COLUMN IF EXISTS qty_limit" for t in ("rate_cards", "rate_cards_current"))),
    # 3 → 4: every usage event's price cell; the rater fills them in under its layout (no layout
    # is recorded yet, so the first one rewrites every usage row); other events' cell is 0
    3: tuple(stmt for table in ("events", "corrections") for stmt in (
        f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "rate_cell" INTEGER',
        f"UPDATE {table} SET rate_cell = 0 WHERE type IS DISTINCT FROM 'llm.usage'")),
}


def layout_version_of_unversioned(has_prompt_hash: bool) -> int:
    """The layout of a file that records no version (written before versions were recorded)."""
    return 2 if has_prompt_hash else 1  # versions are recorded from layout 2 on


def _cols(extra: str = "") -> str:
    body = ",\n    ".join(f'"{name}" {typ}' for name, typ in EVENT_COLUMNS)
    return f"(\n    {body}{extra}\n)"


DDL: tuple[str, ...] = (
    "CREATE SEQUENCE IF NOT EXISTS wm_seq START 1",
    f"CREATE TABLE IF NOT EXISTS events {_cols()}",
    # corrections: the replacement payload (amend) or a tombstone (void), newest wins
    f"""CREATE TABLE IF NOT EXISTS corrections {_cols(''',
    "action" VARCHAR,
    "reason" VARCHAR,
    "corrected_at" TIMESTAMPTZ,
    "revision" BIGINT''')}""",
    """CREATE TABLE IF NOT EXISTS conflicts (
    "seq" BIGINT, "source" VARCHAR, "id" VARCHAR, "received_at" TIMESTAMPTZ,
    "existing_payload_hash" UBIGINT, "payload_hash" UBIGINT, "raw" VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS rejects (
    "seq" BIGINT, "received_at" TIMESTAMPTZ, "origin" VARCHAR, "position" BIGINT,
    "source" VARCHAR, "id" VARCHAR, "reason" VARCHAR, "raw" VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS meta ("key" VARCHAR PRIMARY KEY, "value" VARCHAR)""",
    USAGE_KEYS_DDL,
)

_COLNAMES = ", ".join(f'"{n}"' for n, _ in EVENT_COLUMNS)

# A correction carries the seq of the event it corrects (seq is unique per stored event, as is
# (source, id)), so the view finds corrected events by one integer column: no string is read
# for the events nobody corrected.

LIVE_EVENTS_VIEW = f"""
CREATE OR REPLACE VIEW live_events AS
SELECT {_COLNAMES} FROM events e
WHERE NOT EXISTS (SELECT 1 FROM corrections c WHERE c.seq = e.seq)
UNION ALL
SELECT {_COLNAMES} FROM (
    SELECT *, row_number() OVER (PARTITION BY source, id ORDER BY revision DESC) AS rn
    FROM corrections) c
WHERE rn = 1 AND action = 'amend'
"""
