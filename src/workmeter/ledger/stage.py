"""Set-based validation and normalization of incoming events.

Incoming events arrive as a DuckDB relation of raw envelopes; one SQL pass
validates every CloudEvents field, normalizes ``llm.usage`` payloads into
exclusive buckets (the SQL twin of :mod:`workmeter.normalize`) and yields a
``reason`` for each event that cannot be accepted. No per-event Python.

Two shapes feed it:

* JSON text, one event per row (``pos``, ``raw``): the Python API, files, HTTP;
* columns (``pos``, ``specversion``, ``id``, ``source``, ``type``, ``subject``,
  ``time``, ``data`` as JSON text): Parquet and Arrow bulk loads.

Each event is parsed once: one ``json_extract`` with a list of paths pulls the
JSON text of every envelope field and every field of ``data`` (the usage object
among them); the usage object's own slots are read by a second, per-format
``json_extract`` of that small text (:mod:`workmeter.normalize.sqlflat`).
Everything after that is plain column expressions, one CTE layer per step (a
layer reads only the layer before, so nothing is computed twice and no lambda
runs on valid rows).

Columnar input is first matched against the ledger (:data:`KEYS_FROM_COLUMNS`):
an exact re-send of a stored event is recognised
from its key and payload hash without parsing it, and only the other events are
staged (:data:`ENVELOPE_FROM_COLUMNS_SEEN`).
"""

from __future__ import annotations

from workmeter.normalize import sqlflat
from workmeter.normalize.sql import format_sql
from workmeter.normalize.sqlcounts import json_path
from workmeter.store.schema import PROMOTED_ATTRIBUTES, rate_key_join

SERVICE_TIERS = ("standard", "batch", "flex", "priority")
#: OpenAI reports the standard tier as "default"; it is stored as "standard".
ENVELOPE_FIELDS = ("specversion", "id", "source", "type", "subject", "time")

#: Fields of ``data`` read by staging (JSON text columns ``d_<name>``), then the usage slots.
DATA_FIELDS: dict[str, tuple[str, ...]] = {
    "provider": ("provider",), "model": ("model",), "format": ("usage_format",),
    "tier": ("service_tier",), "task": ("task_id",), "attrs": ("attributes",),
    **{f"attr_{k}": ("attributes", k) for k in PROMOTED_ATTRIBUTES},
    "usage": ("usage",), "prompt": ("prompt_hash",),
}
_JSON_WS = "' ' || chr(9) || chr(10) || chr(13)"
_FIELD_NAMES = {f: "time_text" if f == "time" else f for f in ENVELOPE_FIELDS}


def _data_columns(e: str, first: int) -> str:
    """Select list: ``d_<name>`` JSON texts from the extract list ``e``, starting at index ``first``."""
    attrs = first + list(DATA_FIELDS).index("attrs")
    return ", ".join([f"{e}[{first + k}]::VARCHAR AS d_{n}" for k, n in enumerate(DATA_FIELDS)]
                     + [f"{e}[{attrs}] AS d_attrs_json"])


def _data_paths(prefix: tuple[str, ...]) -> list[str]:
    return [json_path((*prefix, *p)) for p in DATA_FIELDS.values()]


def _is_object(text: str) -> str:
    """BOOLEAN: valid JSON ``text`` is an object (first non-blank character ``{``)."""
    return (f"CASE WHEN starts_with({text}, '{{') THEN true "  # a CASE: ltrim copies only the rare others
            f"ELSE coalesce(starts_with(ltrim({text}, {_JSON_WS}), '{{'), false) END")


def _string(text: str) -> str:
    """VARCHAR: the string a JSON text holds, NULL for any other JSON value."""
    return (f"CASE WHEN starts_with({text}, '\"') THEN CASE WHEN contains({text}, '\\') "
            f"THEN json_extract_string({text}, '$') ELSE substr({text}, 2, length({text}) - 2) END END")


def _scalar(text: str) -> str:
    """VARCHAR like ``->> '$'``: a string unquoted, JSON null as NULL, anything else its JSON text."""
    return f"CASE WHEN {text} = 'null' THEN NULL WHEN starts_with({text}, '\"') THEN {_string(text)} ELSE {text} END"


def _time_ok(t: str) -> str:
    """RFC 3339 with an explicit offset ('Z' or ±hh:mm)."""
    return (
        f"(length({t}) >= 20 AND substr({t}, 11, 1) IN ('T', 't', ' ') "
        f"AND (right({t}, 1) IN ('Z', 'z') OR substr({t}, -6, 1) IN ('+', '-')))"
    )


def _time_cast(t: str) -> str:
    """TIMESTAMPTZ of an RFC 3339 text; lowercase ``t`` / ``z`` (RFC 3339 allows them) read as upper case."""
    return (f"TRY_CAST(CASE WHEN right({t}, 1) = 'z' OR substr({t}, 11, 1) = 't' THEN upper({t}) ELSE {t} END "
            "AS TIMESTAMPTZ)")


def _envelope_ok(t: str = "") -> str:
    """BOOLEAN: every envelope field is valid (the checks of :func:`_layers` before ``data``)."""
    present = " AND ".join(f"{t}{f} <> ''" for f in ("id", "source", "type", "subject"))
    return (f"({t}specversion = '1.0' AND {present} AND {_time_ok(f'{t}time_text')} "
            f"AND {t}time IS NOT NULL)")


def _envelope_from_text() -> str:
    paths = [json_path((f,)) for f in (*ENVELOPE_FIELDS, "data")] + _data_paths(("data",))
    texts = ", ".join(f"e[{k + 1}]::VARCHAR AS j_{f}" for k, f in enumerate(ENVELOPE_FIELDS))
    fields = ", ".join(f"{_string(f'j_{f}')} AS {_FIELD_NAMES[f]}" for f in ENVELOPE_FIELDS)
    data = len(ENVELOPE_FIELDS) + 1
    return f"""
SELECT * EXCLUDE (time_text), time_text, {_time_cast("time_text")} AS time
FROM (
  SELECT pos, raw, parsed, parsed AND {_is_object("raw")} AS is_object, {fields}, data,
         starts_with(data::VARCHAR, '{{') AS data_object, COLUMNS('^d_'),
         NULL::UBIGINT AS seen_hash
  FROM (SELECT pos, raw, e IS NOT NULL AS parsed, {texts}, e[{data}] AS data, {_data_columns("e", data + 1)}
        FROM (SELECT pos, raw, try(json_extract(raw, [{", ".join(paths)}])) AS e FROM {{input}})))
"""


def _columns(source: str) -> str:
    """The columnar envelope over ``source`` (the input's columns, ``pos`` and ``seen_hash``)."""
    fields = ", ".join(f"CAST({f} AS VARCHAR) AS {_FIELD_NAMES[f]}" for f in ENVELOPE_FIELDS)
    return f"""
SELECT pos, NULL::VARCHAR AS raw, true AS parsed, true AS is_object, specversion, id, source, type, subject,
       time_text, time, CASE WHEN e IS NOT NULL THEN CAST(data_in AS JSON) END AS data,
       e IS NOT NULL AND {_is_object("data_text")} AS data_object, {_data_columns("e", 1)}, seen_hash
FROM (SELECT *, try(json_extract(data_text, [{", ".join(_data_paths(()))}])) AS e
      FROM ({_keyed(fields, source)}))
"""


def _keyed(fields: str, source: str) -> str:
    return (f"SELECT *, {_time_cast('time_text')} AS time FROM (SELECT pos, {fields}, data AS data_in, "
            f"CAST(data AS VARCHAR) AS data_text, seen_hash FROM ({source}))")


def _seen_from_columns() -> str:
    """``pos`` and stored payload hash of every input event whose key is in the ledger.

    Reads only ``source`` and ``id``; stored events are found by ``key_hash`` first (one
    integer column), then source, id and payload hash are read only for the rows found.
    """
    keys = ("SELECT pos, CAST(source AS VARCHAR) AS source, CAST(id AS VARCHAR) AS id, "
            "hash(CAST(source AS VARCHAR), CAST(id AS VARCHAR)) AS key_hash FROM {input}")
    hashes = "SELECT hash(CAST(source AS VARCHAR), CAST(id AS VARCHAR)) AS key_hash FROM {input}"
    seen = ("SELECT e.key_hash, e.source, e.id, e.payload_hash FROM events e SEMI JOIN "
            f"(SELECT x.rowid AS r FROM events x SEMI JOIN ({hashes}) b ON x.key_hash = b.key_hash) h "
            "ON e.rowid = h.r")
    return (f"SELECT k.pos, s.payload_hash AS seen_hash FROM ({keys}) k "
            f"JOIN ({seen}) s ON s.key_hash = k.key_hash AND s.source = k.source AND s.id = k.id")


def _keys_from_columns() -> str:
    """Every input event's key, stored payload hash (``_seen``) and whether it is an exact re-send.

    ``dup``: same key, same payload hash (type, subject, time and the data text) and a
    valid envelope; the stored event was valid, so this one is too, and it needs no
    parse. The other envelope columns are kept for the events that are not re-sends.
    """
    fields = ", ".join(f"CAST({f} AS VARCHAR) AS {_FIELD_NAMES[f]}" for f in ENVELOPE_FIELDS)
    dup = (f"CASE WHEN seen_hash IS NOT NULL THEN coalesce(seen_hash = hash(type, subject, epoch_us(time), "
           f"data_text) AND {_envelope_ok()}, false) ELSE false END")
    rest = ", ".join(f"CASE WHEN NOT dup THEN {c} END AS {c}"
                     for c in ("specversion", "type", "subject", "time_text", "data"))
    return f"""
SELECT pos, source, id, seen_hash, dup, {rest}
FROM (SELECT *, {dup} AS dup
      FROM (SELECT *, CASE WHEN seen_hash IS NOT NULL THEN {_time_cast("time_text")} END AS time
            FROM (SELECT i.*, s.seen_hash FROM (
                  SELECT pos, {fields}, data, CAST(data AS VARCHAR) AS data_text FROM {{input}}) i
                  LEFT JOIN _seen s ON s.pos = i.pos)))
"""


#: Envelope from JSON text rows (``pos``, ``raw``): one parse of each event.
ENVELOPE_FROM_TEXT = _envelope_from_text()
#: Envelope from columnar input (Parquet / Arrow): data given as JSON text, parsed once.
ENVELOPE_FROM_COLUMNS = _columns("SELECT *, NULL::UBIGINT AS seen_hash FROM {input}")
#: (for ``_seen``) pos and stored payload hash of the input events whose key is stored.
SEEN_FROM_COLUMNS = _seen_from_columns()
#: The columnar envelope with each event's stored payload hash from ``_seen``.
ENVELOPE_FROM_COLUMNS_SEEN = _columns(
    "SELECT i.*, s.seen_hash FROM {input} i LEFT JOIN _seen s ON s.pos = i.pos")
#: (for ``_keys``) pos, source, id, seen_hash, dup (an exact re-send of a stored event) and the
#: other envelope columns of the rest: when many keys are stored (a file sent again), the rest
#: is staged from there (:data:`ENVELOPE_FROM_KEYS`) and the input is read once.
KEYS_FROM_COLUMNS = _keys_from_columns()
#: The columnar envelope over the events of ``_keys`` that are not exact re-sends.
ENVELOPE_FROM_KEYS = _columns(
    "SELECT pos, specversion, id, source, type, subject, time_text AS time, data, seen_hash FROM _keys WHERE NOT dup")


#: A JSON object whose every value is a string (or null), as json_extract writes it (no blanks).
_STR = r'"(?:[^"\\]|\\.)*"'
_PAIR = rf"{_STR}:(?:{_STR}|null)"
_STRING_OBJECT = rf"\{{(?:{_PAIR}(?:,{_PAIR})*)?\}}"


def _layers(envelope_sql: str) -> str:
    """CTE layers from the envelope to ``checked`` (one reason per event, NULL when it is good)."""
    n = sqlflat.WIDTH
    texts = ", ".join(f"s[{i + 1}] AS t{i}" for i in range(n))
    values = ", ".join(f"{sqlflat.value_sql(f't{i}')} AS v{i}" for i in range(n))
    codes = ", ".join(f"{sqlflat.code_sql(i, f't{i}', f'v{i}', 'nobj')} AS c{i}" for i in range(n))
    tiers = ", ".join(f"'{t}'" for t in SERVICE_TIERS)
    return f"""
WITH env AS ({envelope_sql}),
fields AS (
  SELECT *, type = 'llm.usage' AS is_usage,
         {_string("d_provider")} AS provider_s, {_string("d_model")} AS model_s,
         {_scalar("d_provider")} AS provider_x, {_scalar("d_format")} AS format_x,
         CASE coalesce({_scalar("d_tier")}, 'standard') WHEN 'default' THEN 'standard'
              ELSE coalesce({_scalar("d_tier")}, 'standard') END AS tier
  FROM env
),
formatted AS (SELECT *, {format_sql("provider_x", "format_x")} AS fmt FROM fields),
kinds AS (SELECT *, {sqlflat.format_code_sql("fmt")} AS fk FROM formatted),
slotted AS (
  SELECT *, CASE WHEN is_usage AND starts_with(d_usage, '{{') THEN {sqlflat.slots_sql("fk", "d_usage")} END AS s,
         {sqlflat.containers_sql("fk")} AS nobj
  FROM kinds
),
texts AS (SELECT * EXCLUDE (s), {texts} FROM slotted),
valued AS (SELECT *, {values} FROM texts),
coded AS (SELECT *, {codes} FROM valued),
checked AS (
  SELECT *,
    CASE
      WHEN NOT parsed THEN 'not valid JSON'
      WHEN NOT is_object THEN 'an event must be a JSON object'
      WHEN specversion IS NULL THEN 'specversion: required, must be "1.0"'
      WHEN specversion <> '1.0' THEN 'specversion: must be "1.0", got "' || specversion || '"'
      WHEN id IS NULL OR id = '' THEN 'id: required non-empty string'
      WHEN source IS NULL OR source = '' THEN 'source: required non-empty string'
      WHEN type IS NULL OR type = '' THEN 'type: required non-empty string'
      WHEN subject IS NULL OR subject = '' THEN 'subject: required non-empty string (the customer id)'
      WHEN time_text IS NULL THEN 'time: required RFC 3339 timestamp'
      WHEN NOT {_time_ok("time_text")} OR time IS NULL
        THEN 'time: "' || time_text || '" is not RFC 3339 with an offset (e.g. 2026-10-01T12:00:00Z)'
      WHEN is_usage AND NOT coalesce(data_object, false) THEN 'data: llm.usage needs a JSON object'
      WHEN is_usage AND (provider_s IS NULL OR provider_s = '') THEN 'data.provider: required string'
      WHEN is_usage AND (model_s IS NULL OR model_s = '') THEN 'data.model: required string'
      WHEN is_usage AND tier NOT IN ({tiers})
        THEN 'data.service_tier: "' || tier || '" is not one of {", ".join(SERVICE_TIERS)}'
      WHEN d_task IS NOT NULL AND d_task <> 'null' AND NOT starts_with(d_task, '"')
        THEN 'data.task_id: must be a string'
      WHEN is_usage AND d_attrs IS NOT NULL AND d_attrs <> 'null' AND NOT regexp_full_match(d_attrs, '{_STRING_OBJECT}')
        THEN 'data.attributes: must be an object of string values'
      WHEN is_usage THEN {sqlflat.problem_sql("fmt", "fk", "d_usage", lambda i: f"c{i}")}
    END AS reason
  FROM coded
)"""


def staged_sql(envelope_sql: str) -> str:
    """The full staging SELECT: envelope → validated, normalized rows with ``reason``, and the
    ``rate_key`` of a usage event whose (provider, model, service_tier) ``usage_keys`` has (else NULL)."""
    buckets = ",\n       ".join(
        f"CASE WHEN is_usage THEN {expr} END AS \"{name}\""
        for name, expr in sqlflat.bucket_columns_sql("fk", lambda i: f"c{i}").items()
    )
    promoted = ", ".join(f"{_string(f'd_attr_{k}')} AS \"{k}\"" for k in PROMOTED_ATTRIBUTES)
    return f"""SELECT st.*, u.key_id AS rate_key FROM ({_layers(envelope_sql)}
SELECT pos, CASE WHEN reason IS NOT NULL THEN raw END AS raw, reason, specversion, id, source, type, subject,
       time, data,
       hash(source, id) AS key_hash,
       hash(type, subject, epoch_us(time), CAST(data AS VARCHAR)) AS payload_hash, seen_hash,
       CASE WHEN is_usage THEN provider_s END AS provider, CASE WHEN is_usage THEN model_s END AS model,
       CASE WHEN is_usage THEN fmt END AS usage_format, CASE WHEN is_usage THEN tier END AS service_tier,
       {_string("d_task")} AS task_id, CASE WHEN is_usage THEN {_scalar("d_prompt")} END AS prompt_hash,
       {buckets},
       {promoted},
       CASE WHEN starts_with(d_attrs, '{{') THEN d_attrs_json END AS attributes
FROM checked
) st {rate_key_join("st")}
"""
