"""Meters compiled to SQL: one aggregate expression per meter, evaluated in DuckDB.

Values are exact: usage columns are integers, JSON numbers are cast to
``DECIMAL(38, 18)`` (a value that is not a number, or does not fit, is NULL
and ignored), rated cost is already ``DECIMAL(38, 18)``. ``avg`` is returned as
a sum and a count and divided in Python with Decimal, never in floating point.
"""

from __future__ import annotations

from workmeter.meters.model import (
    COLUMN_FIELDS,
    COST_PROPERTIES,
    TOTAL_TOKENS,
    USAGE_PROPERTIES,
    WINDOWS,
    MeterDef,
)

DECIMAL = "DECIMAL(38, 18)"


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def json_path(path: str) -> str:
    """``a.b`` → the literal ``'$."a"."b"'`` (quoted so any key name works)."""
    return quote("$." + ".".join('"' + part.replace('"', '\\"') + '"' for part in path.split(".")))


def field_sql(name: str) -> str:
    """A filter / group-by field as a VARCHAR expression."""
    if name in COLUMN_FIELDS:
        return f'"{COLUMN_FIELDS[name]}"'
    if name.startswith("attributes."):
        return f"json_extract_string(attributes, {json_path(name[len('attributes.'):])})"
    path = name[len("data."):] if name.startswith("data.") else name.removeprefix("$.")
    return f"json_extract_string(data, {json_path(path)})"


def property_sql(prop: str) -> str:
    """The numeric value a meter aggregates."""
    if prop in USAGE_PROPERTIES or prop in COST_PROPERTIES:
        return f'"{prop}"'
    if prop == TOTAL_TOKENS:
        return "(coalesce(input, 0) + coalesce(cache_read, 0) + coalesce(cache_write_5m, 0)" \
               " + coalesce(cache_write_1h, 0) + coalesce(output, 0))"
    path = prop[len("data."):] if prop.startswith("data.") else prop.removeprefix("$.")
    return f"TRY_CAST(json_extract_string(data, {json_path(path)}) AS {DECIMAL})"


def text_property_sql(prop: str) -> str:
    """The value as text (for ``unique_count``)."""
    if prop.startswith(("$.", "data.")):
        path = prop[len("data."):] if prop.startswith("data.") else prop.removeprefix("$.")
        return f"json_extract_string(data, {json_path(path)})"
    return f"CAST({property_sql(prop)} AS VARCHAR)"


def condition_sql(meter: MeterDef) -> str:
    """The WHERE condition selecting the meter's events (type and filters)."""
    parts = [f"type = {quote(meter.event_type)}"]
    for name, values in meter.filters:
        if name == "model" and meter.needs_rating:
            lowered = tuple(v.lower() for v in values)
            alts = _matches('lower("model")', lowered) + _matches('lower("catalog_model")', lowered)
        else:
            alts = _matches(field_sql(name), values)
        parts.append("(" + " OR ".join(alts) + ")")
    return " AND ".join(parts)


def _matches(expr: str, values: tuple[str, ...]) -> list[str]:
    exact = [v for v in values if not _is_glob(v)]
    alts = [f"{expr} IN ({', '.join(quote(v) for v in exact)})"] if exact else []
    return alts + [f"{expr} GLOB {quote(g)}" for g in values if _is_glob(g)]


def aggregate_sql(meter: MeterDef, alias: str, where: str | None = None) -> list[str]:
    """Select-list items computing the meter; ``avg`` yields ``alias__sum`` and ``alias__n``.

    ``where`` adds a FILTER clause (used when many meters share one scan).
    """
    filt = f" FILTER (WHERE {where})" if where else ""
    agg = meter.aggregation
    if agg == "count":
        return [f"count(*){filt} AS {alias}"]
    assert meter.prop is not None
    value = property_sql(meter.prop)
    if agg == "sum":
        return [f"sum({value}){filt} AS {alias}"]
    if agg == "max":
        return [f"max({value}){filt} AS {alias}"]
    if agg == "latest":
        return [f"arg_max({value}, (time, seq)){filt} AS {alias}"]
    if agg == "unique_count":
        return [f"count(DISTINCT {text_property_sql(meter.prop)}){filt} AS {alias}"]
    return [f"sum({value}){filt} AS {alias}__sum", f"count({value}){filt} AS {alias}__n"]


def window_sql(window: str, tz: str) -> str:
    """The local start of the hour/day/month an event falls in, in ``tz``, as text."""
    assert window in WINDOWS
    fmt = {"hour": "%Y-%m-%dT%H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}[window]
    return f"strftime(date_trunc({quote(window)}, timezone({quote(tz)}, time)), {quote(fmt)})"


def _is_glob(value: str) -> bool:
    return "*" in value or "?" in value
