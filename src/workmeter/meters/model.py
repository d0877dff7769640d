"""Meter definitions: what to aggregate, over which events, split how.

A meter is a named aggregation over events of one ``type``, computed at query
time from ``live_events`` (so a meter defined today sees last month's events):

============  ===============================================================
aggregation   value
============  ===============================================================
``sum``       Σ property (numbers; non-numeric values are ignored)
``count``     number of matching events (no property)
``unique_count``  number of distinct property values
``max``       largest property value
``latest``    property value of the latest event (by event time, then seq)
``avg``       Σ property / number of events that carry a numeric property
============  ===============================================================

``property`` names what is aggregated: a usage column of ``llm.usage`` events
(``input``, ``cache_read``, ``cache_write_5m``, ``cache_write_1h``, ``output``,
``reasoning``, ``web_search``, ``total_tokens``), the rated ``cost`` (and
``cost_<bucket>``), or a JSON path into the event's ``data``
(``$.duration_ms`` or ``data.duration_ms``).

``filter`` maps a field to one value (equality) or a list (``in``); a value
containing ``*`` or ``?`` is a glob. On ``llm.usage`` a ``model`` filter is
case-insensitive and matches the model as sent or its catalog name, so
``claude-sonnet-4-5`` also matches ``claude-sonnet-4-5-20250929``. Fields (also usable in ``group_by``):
the columns ``customer``, ``provider``, ``model``, ``service_tier``, ``task``,
``team``, ``project``, ``workflow``, ``user``, ``source``, ``type``;
``attributes.NAME`` for any attribute; any other name (or ``data.PATH``) is a
path into the event's ``data``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AGGREGATIONS: tuple[str, ...] = ("sum", "count", "unique_count", "max", "latest", "avg")
WINDOWS: tuple[str, ...] = ("hour", "day", "month")

#: Event columns usable in filters and group-by, by the name users write.
COLUMN_FIELDS: dict[str, str] = {
    "customer": "subject", "subject": "subject", "provider": "provider", "model": "model",
    "service_tier": "service_tier", "task": "task_id", "task_id": "task_id", "team": "team",
    "project": "project", "workflow": "workflow", "user": "user", "source": "source", "type": "type",
    "usage_format": "usage_format",
}
#: Numeric usage columns of ``llm.usage`` events (exclusive buckets plus the reasoning sub-count).
USAGE_PROPERTIES: tuple[str, ...] = (
    "input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "web_search",
)
TOTAL_TOKENS = "total_tokens"
#: Rated-cost properties (need the rating view).
COST_PROPERTIES: tuple[str, ...] = (
    "cost", "cost_input", "cost_cache_read", "cost_cache_write_5m", "cost_cache_write_1h",
    "cost_output", "cost_web_search",
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_META_FIELDS = frozenset({"key", "event_type", "aggregation", "property", "filter", "group_by", "description"})


class FieldError(ValueError):
    """A definition problem in one named field (the plan loader adds file and line)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class MeterDef:
    key: str
    event_type: str
    aggregation: str
    prop: str | None = None  # the ``property`` field
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    group_by: tuple[str, ...] = ()
    description: str = ""
    builtin: bool = field(default=False, compare=False)

    @property
    def needs_rating(self) -> bool:
        """True when the meter runs over ``rated_events``: it reads rated cost, or it filters
        ``llm.usage`` by model (matched on the model as sent and on its catalog name)."""
        return self.prop in COST_PROPERTIES or (
            self.event_type == "llm.usage" and any(name == "model" for name, _ in self.filters))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "event_type": self.event_type, "aggregation": self.aggregation}
        if self.prop:
            out["property"] = self.prop
        if self.filters:
            out["filter"] = {k: list(v) if len(v) != 1 else v[0] for k, v in self.filters}
        if self.group_by:
            out["group_by"] = list(self.group_by)
        if self.description:
            out["description"] = self.description
        return out


def parse_meter(spec: Mapping[str, Any]) -> MeterDef:
    """Validate a meter table (from a plan file or the API); raise :class:`FieldError`."""
    unknown = sorted(set(spec) - _META_FIELDS)
    if unknown:
        raise FieldError(unknown[0], f"unknown meter field (known: {', '.join(sorted(_META_FIELDS))})")
    key = _text(spec, "key")
    if not _KEY.match(key):
        raise FieldError("key", f"{key!r} must be lowercase letters, digits, '_', '-' or '.'")
    event_type = _text(spec, "event_type")
    aggregation = _text(spec, "aggregation").lower()
    if aggregation not in AGGREGATIONS:
        raise FieldError("aggregation", f"{aggregation!r} is not one of {', '.join(AGGREGATIONS)}")
    prop = spec.get("property")
    if aggregation == "count":
        if prop is not None:
            raise FieldError("property", "a count meter counts events and takes no property")
    else:
        if not isinstance(prop, str) or not prop:
            raise FieldError("property", f"a {aggregation} meter needs a property to aggregate")
        check_property(prop, event_type)
    filters = _filters(spec.get("filter", {}))
    group_by = _group_by(spec.get("group_by", []))
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise FieldError("description", "must be a string")
    return MeterDef(key, event_type, aggregation, prop, filters, group_by, description)


def check_property(prop: str, event_type: str) -> None:
    if prop in USAGE_PROPERTIES or prop == TOTAL_TOKENS or prop in COST_PROPERTIES:
        if event_type != "llm.usage":
            raise FieldError("property", f"{prop!r} is a column of llm.usage events only")
        return
    path = prop[2:] if prop.startswith("$.") else prop[5:] if prop.startswith("data.") else None
    if path is None or not _NAME.match(path):
        raise FieldError("property", f"{prop!r} is neither a usage column nor a JSON path like '$.amount'")


def check_field(name: str, where: str) -> None:
    if name in COLUMN_FIELDS:
        return
    rest = name.split(".", 1)[1] if name.startswith(("attributes.", "data.")) else name.removeprefix("$.")
    if not rest or not _NAME.match(rest):
        raise FieldError(where, f"{name!r} is not a column, 'attributes.NAME' or a data path")


def _filters(raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(raw, Mapping):
        raise FieldError("filter", "must be a table like { model = \"claude-sonnet-4-5\" }")
    out = []
    for name in sorted(raw):
        check_field(name, f"filter.{name}")
        value = raw[name]
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            raise FieldError(f"filter.{name}", "must be a string, an integer or a non-empty list of them")
        out.append((name, tuple(str(v) for v in values)))
    return tuple(out)


def _group_by(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise FieldError("group_by", "must be a list of field names")
    for name in raw:
        if name not in WINDOWS:
            check_field(name, "group_by")
    return tuple(raw)


def _text(spec: Mapping[str, Any], name: str) -> str:
    value = spec.get(name)
    if not isinstance(value, str) or not value.strip():
        raise FieldError(name, "is required (a non-empty string)")
    return value.strip()


def _builtin(key: str, aggregation: str, prop: str | None, description: str) -> MeterDef:
    return MeterDef(key, "llm.usage", aggregation, prop, description=description, builtin=True)


#: Built-in meters over ``llm.usage`` events: tokens per bucket, calls, rated cost.
BUILTIN_METERS: dict[str, MeterDef] = {
    m.key: m
    for m in (
        *(_builtin(f"{b}_tokens", "sum", b, f"{b} tokens") for b in USAGE_PROPERTIES if b != "web_search"),
        _builtin("total_tokens", "sum", TOTAL_TOKENS, "all tokens: input, cache reads and writes, output"),
        _builtin("web_search_requests", "sum", "web_search", "web search requests"),
        _builtin("llm_calls", "count", None, "model calls"),
        _builtin("llm_cost", "sum", "cost", "rated provider cost in USD (priced events only)"),
    )
}
