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

from workmeter.normalize.sql import bucket_columns_sql, problem_sql
from workmeter.store.schema import PROMOTED_ATTRIBUTES

SERVICE_TIERS = ("standard", "batch", "flex", "priority")

#: Envelope from JSON text rows: every field with its JSON type, checked below.
ENVELOPE_FROM_TEXT = """
SELECT pos, raw, j,
       json_type(j) AS jt,
       CASE WHEN json_type(j, '$.specversion') = 'VARCHAR' THEN j->>'$.specversion' END AS specversion,
       CASE WHEN json_type(j, '$.id') = 'VARCHAR' THEN j->>'$.id' END AS id,
       CASE WHEN json_type(j, '$.source') = 'VARCHAR' THEN j->>'$.source' END AS source,
       CASE WHEN json_type(j, '$.type') = 'VARCHAR' THEN j->>'$.type' END AS type,
       CASE WHEN json_type(j, '$.subject') = 'VARCHAR' THEN j->>'$.subject' END AS subject,
       CASE WHEN json_type(j, '$.time') = 'VARCHAR' THEN j->>'$.time' END AS time_text,
       j->'$.data' AS data
FROM (SELECT pos, raw, TRY_CAST(raw AS JSON) AS j FROM {input})
"""

#: Envelope from columnar input (Parquet / Arrow): data given as JSON text.
ENVELOPE_FROM_COLUMNS = """
SELECT pos, NULL::VARCHAR AS raw, NULL::JSON AS j, 'OBJECT' AS jt,
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
    """The full staging SELECT: envelope → validated, normalized rows with ``reason``."""
    buckets = bucket_columns_sql("fmt", "usage")
    tiers = ", ".join(f"'{t}'" for t in SERVICE_TIERS)
    bucket_cols = ",\n       ".join(
        f"CASE WHEN type = 'llm.usage' THEN {expr} END AS \"{name}\"" for name, expr in buckets.items()
    )
    promoted = ",\n       ".join(
        f"CASE WHEN json_type(attributes, '$.\"{k}\"') = 'VARCHAR' THEN attributes->>'$.\"{k}\"' END AS \"{k}\""
        for k in PROMOTED_ATTRIBUTES
    )
    return f"""
WITH env AS ({envelope_sql}),
u AS (
  SELECT *,
         TRY_CAST(time_text AS TIMESTAMPTZ) AS time,
         CASE WHEN type = 'llm.usage' THEN data->>'$.provider' END AS provider,
         CASE WHEN type = 'llm.usage' THEN data->>'$.model' END AS model,
         CASE WHEN type = 'llm.usage' THEN coalesce(data->>'$.usage_format',
              CASE data->>'$.provider' WHEN 'anthropic' THEN 'anthropic' WHEN 'openai' THEN 'openai-chat'
                   WHEN 'google' THEN 'gemini' END) END AS fmt,
         CASE WHEN type = 'llm.usage' THEN data->'$.usage' END AS usage,
         CASE WHEN type = 'llm.usage' THEN coalesce(data->>'$.service_tier', 'standard') END AS service_tier,
         CASE WHEN json_type(data, '$.task_id') = 'VARCHAR' THEN data->>'$.task_id' END AS task_id,
         CASE WHEN type = 'llm.usage' THEN data->'$.attributes'
              ELSE CASE WHEN json_type(data, '$.attributes') = 'OBJECT' THEN data->'$.attributes' END
         END AS attributes
  FROM env
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
      WHEN type = 'llm.usage' AND (data IS NULL OR json_type(data) <> 'OBJECT')
        THEN 'data: llm.usage needs a JSON object'
      WHEN type = 'llm.usage' AND (json_type(data, '$.provider') IS DISTINCT FROM 'VARCHAR' OR provider = '')
        THEN 'data.provider: required string'
      WHEN type = 'llm.usage' AND (json_type(data, '$.model') IS DISTINCT FROM 'VARCHAR' OR model = '')
        THEN 'data.model: required string'
      WHEN type = 'llm.usage' AND json_type(usage) IS DISTINCT FROM 'OBJECT'
        THEN 'data.usage: required JSON object'
      WHEN type = 'llm.usage' AND fmt IS NULL
        THEN 'data.usage_format: required when provider "' || provider || '" implies none'
      WHEN type = 'llm.usage' AND service_tier NOT IN ({tiers})
        THEN 'data.service_tier: "' || service_tier || '" is not one of {", ".join(SERVICE_TIERS)}'
      WHEN json_type(data, '$.task_id') IS NOT NULL AND json_type(data, '$.task_id') <> 'VARCHAR'
        THEN 'data.task_id: must be a string'
      WHEN type = 'llm.usage' AND attributes IS NOT NULL AND NOT {_attrs_ok("attributes")}
        THEN 'data.attributes: must be an object of string values'
      WHEN type = 'llm.usage' THEN {problem_sql("fmt", "usage")}
    END AS reason
  FROM u
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
