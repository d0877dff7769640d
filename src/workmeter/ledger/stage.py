"""Set-based validation and normalization of incoming events.

Incoming events arrive as a DuckDB relation of raw envelopes; one SQL pass
validates every CloudEvents field, normalizes ``llm.usage`` payloads into
exclusive buckets (the SQL twin of :mod:`workmeter.normalize`) and yields a
``reason`` for each event that cannot be accepted. No per-event Python.

Two shapes feed it:

* JSON text, one event per row (``pos``, ``raw``): the Python API, files, HTTP;
* columns (``pos``, ``specversion``, ``id``, ``source``, ``type``, ``subject``,
  ``time``, ``data`` as JSON text): Parquet and Arrow bulk loads.
"""

from __future__ import annotations

from workmeter.normalize.sql import bucket_columns_sql, format_sql, problem_sql, usage_row_sql
from workmeter.store.schema import PROMOTED_ATTRIBUTES

SERVICE_TIERS = ("standard", "batch", "flex", "priority")

#: Envelope from JSON text rows: the event is parsed once, fields picked from one extract list.
ENVELOPE_FROM_TEXT = """
SELECT pos, raw, jt,
       CASE WHEN json_type(e[1]) = 'VARCHAR' THEN e[1]->>'$' END AS specversion,
       CASE WHEN json_type(e[2]) = 'VARCHAR' THEN e[2]->>'$' END AS id,
       CASE WHEN json_type(e[3]) = 'VARCHAR' THEN e[3]->>'$' END AS source,
       CASE WHEN json_type(e[4]) = 'VARCHAR' THEN e[4]->>'$' END AS type,
       CASE WHEN json_type(e[5]) = 'VARCHAR' THEN e[5]->>'$' END AS subject,
       CASE WHEN json_type(e[6]) = 'VARCHAR' THEN e[6]->>'$' END AS time_text,
       e[7] AS data
FROM (SELECT pos, raw, json_type(j) AS jt,
             json_extract(j, ['$.specversion', '$.id', '$.source', '$.type', '$.subject', '$.time', '$.data']) AS e
      FROM (SELECT pos, raw, TRY_CAST(raw AS JSON) AS j FROM {input}))
"""

#: Envelope from columnar input (Parquet / Arrow): data given as JSON text.
ENVELOPE_FROM_COLUMNS = """
SELECT pos, NULL::VARCHAR AS raw, 'OBJECT' AS jt,
       CAST(specversion AS VARCHAR) AS specversion, CAST(id AS VARCHAR) AS id,
       CAST(source AS VARCHAR) AS source, CAST(type AS VARCHAR) AS type,
       CAST(subject AS VARCHAR) AS subject, CAST(time AS VARCHAR) AS time_text,
       TRY_CAST(data AS JSON) AS data
FROM {input}
"""


def _time_ok(t: str) -> str:
    """RFC 3339 with an explicit offset ('Z' or ±hh:mm)."""
    return (
        f"(length({t}) >= 20 AND substr({t}, 11, 1) IN ('T', 't', ' ') "
        f"AND (right({t}, 1) IN ('Z', 'z') OR substr({t}, -6, 1) IN ('+', '-')))"
    )


def _attrs_ok(a: str) -> str:
    return (
        f"(json_type({a}) = 'OBJECT' AND coalesce(list_bool_and(list_transform("
        f"map_values(json_transform({a}, '\"MAP(VARCHAR, JSON)\"')), lambda v: json_type(v) = 'VARCHAR')), true))"
    )


def staged_sql(envelope_sql: str) -> str:
    """The full staging SELECT: envelope → validated, normalized rows with ``reason``.

    Each JSON document is parsed once: the envelope with one extract list, ``data``
    with another, and the usage object once inside the normalization STRUCT.
    """
    tiers = ", ".join(f"'{t}'" for t in SERVICE_TIERS)
    bucket_cols = ",\n       ".join(
        f"CASE WHEN type = 'llm.usage' THEN {expr} END AS \"{name}\""
        for name, expr in bucket_columns_sql("fmt", "usage", row="wm_usage").items()
    )
    promoted = ",\n       ".join(
        f"CASE WHEN json_type(attributes, '$.\"{k}\"') = 'VARCHAR' THEN attributes->>'$.\"{k}\"' END AS \"{k}\""
        for k in PROMOTED_ATTRIBUTES
    )
    return f"""
WITH env AS ({envelope_sql}),
d AS (
  SELECT *, json_extract(data, ['$.provider', '$.model', '$.usage_format', '$.usage', '$.service_tier',
                                '$.task_id', '$.attributes']) AS f
  FROM env
),
u AS (
  SELECT * EXCLUDE (f),
         TRY_CAST(time_text AS TIMESTAMPTZ) AS time,
         json_type(data) AS dt,
         json_type(f[1]) AS provider_t, json_type(f[2]) AS model_t, json_type(f[6]) AS task_t,
         CASE WHEN type = 'llm.usage' AND json_type(f[1]) = 'VARCHAR' THEN f[1]->>'$' END AS provider,
         CASE WHEN type = 'llm.usage' AND json_type(f[2]) = 'VARCHAR' THEN f[2]->>'$' END AS model,
         CASE WHEN type = 'llm.usage' THEN {format_sql("(f[1]->>'$')", "(f[3]->>'$')")} END AS fmt,
         CASE WHEN type = 'llm.usage' THEN f[4] END AS usage,
         CASE WHEN type = 'llm.usage' THEN coalesce(f[5]->>'$', 'standard') END AS service_tier,
         CASE WHEN json_type(f[6]) = 'VARCHAR' THEN f[6]->>'$' END AS task_id,
         CASE WHEN json_type(f[7]) = 'OBJECT' THEN f[7]
              WHEN type = 'llm.usage' THEN f[7] END AS attributes
  FROM d
),
n AS (
  SELECT *, CASE WHEN type = 'llm.usage' THEN {usage_row_sql("fmt", "usage")} END AS wm_usage
  FROM u
),
v AS (
  SELECT *,
    CASE
      WHEN jt IS NULL THEN 'not valid JSON'
      WHEN jt <> 'OBJECT' THEN 'an event must be a JSON object'
      WHEN specversion IS NULL THEN 'specversion: required, must be "1.0"'
      WHEN specversion <> '1.0' THEN 'specversion: must be "1.0", got "' || specversion || '"'
      WHEN id IS NULL OR id = '' THEN 'id: required non-empty string'
      WHEN source IS NULL OR source = '' THEN 'source: required non-empty string'
      WHEN type IS NULL OR type = '' THEN 'type: required non-empty string'
      WHEN subject IS NULL OR subject = '' THEN 'subject: required non-empty string (the customer id)'
      WHEN time_text IS NULL THEN 'time: required RFC 3339 timestamp'
      WHEN NOT {_time_ok("time_text")} OR time IS NULL
        THEN 'time: "' || time_text || '" is not RFC 3339 with an offset (e.g. 2026-10-01T12:00:00Z)'
      WHEN type = 'llm.usage' AND dt IS DISTINCT FROM 'OBJECT' THEN 'data: llm.usage needs a JSON object'
      WHEN type = 'llm.usage' AND (provider IS NULL OR provider = '') THEN 'data.provider: required string'
      WHEN type = 'llm.usage' AND (model IS NULL OR model = '') THEN 'data.model: required string'
      WHEN type = 'llm.usage' AND service_tier NOT IN ({tiers})
        THEN 'data.service_tier: "' || service_tier || '" is not one of {", ".join(SERVICE_TIERS)}'
      WHEN task_t IS NOT NULL AND task_t <> 'VARCHAR' THEN 'data.task_id: must be a string'
      WHEN type = 'llm.usage' AND attributes IS NOT NULL AND NOT {_attrs_ok("attributes")}
        THEN 'data.attributes: must be an object of string values'
      WHEN type = 'llm.usage' THEN {problem_sql("fmt", "usage", row="wm_usage")}
    END AS reason
  FROM n
)
SELECT pos, raw, reason, specversion, id, source, type, subject, time, data,
       hash(source, id) AS key_hash,
       hash(type, subject, epoch_us(time), CAST(data AS VARCHAR)) AS payload_hash,
       provider, model, fmt AS usage_format, service_tier, task_id,
       {bucket_cols},
       {promoted},
       attributes
FROM v
"""
