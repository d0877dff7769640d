"""The meter service: stored definitions and query-time aggregation.

Definitions live in the ``meters`` table (plans publish theirs when applied);
built-ins (:data:`~workmeter.meters.model.BUILTIN_METERS`) are always there
and cannot be redefined. A query runs one GROUP BY over ``live_events`` (or
over ``rated_events`` when the meter reads rated cost), over the half-open
time range ``[start, end)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from workmeter.core.errors import Conflict, InvalidInput, NotFound
from workmeter.core.money import EXACT, STORAGE_SCALE
from workmeter.meters.model import BUILTIN_METERS, WINDOWS, FieldError, MeterDef, check_field, parse_meter
from workmeter.meters.sql import aggregate_sql, condition_sql, field_sql, window_sql
from workmeter.store.duckdb import Database, register_ddl

METERS_DDL = (
    """CREATE TABLE IF NOT EXISTS meters (
    "key" VARCHAR PRIMARY KEY, "definition" JSON, "origin" VARCHAR, "updated_at" TIMESTAMPTZ)""",
)
register_ddl(*METERS_DDL)

_SCALE = Decimal(1).scaleb(-STORAGE_SCALE)


class MeterService:
    """Define, list and query meters.

    ``rated_view`` returns the name of the rated-events view, making sure it
    exists (the rating package provides it); it is only called for meters that
    read rated cost.
    """

    def __init__(self, db: Database, rated_view: Callable[[], str] | None = None) -> None:
        self.db = db
        self._rated_view = rated_view
        db.ensure(*METERS_DDL)

    # -- definitions ----------------------------------------------------------------------
    def save(self, meter: MeterDef, origin: str = "api") -> None:
        if meter.key in BUILTIN_METERS:
            raise Conflict(f"meter {meter.key!r} is built in and cannot be redefined")
        with self.db.write() as con:
            con.execute("INSERT OR REPLACE INTO meters VALUES (?, ?, ?, now())",
                        [meter.key, orjson.dumps(meter.as_dict()).decode(), origin])

    def define(self, spec: dict[str, Any], origin: str = "api") -> MeterDef:
        try:
            meter = parse_meter(spec)
        except FieldError as exc:
            raise InvalidInput(f"meter field {exc.field}: {exc.message}") from None
        self.save(meter, origin)
        return meter

    def get(self, key: str) -> MeterDef:
        if key in BUILTIN_METERS:
            return BUILTIN_METERS[key]
        row = self.db.read().execute("SELECT definition FROM meters WHERE key = ?", [key]).fetchone()
        if row is None:
            known = ", ".join(sorted([*BUILTIN_METERS, *self._stored_keys()]))
            raise NotFound(f"no meter {key!r} (known: {known})")
        return parse_meter(orjson.loads(row[0]))

    def all(self) -> list[dict[str, Any]]:
        rows = [{**m.as_dict(), "origin": "builtin"} for m in BUILTIN_METERS.values()]
        for definition, origin in self.db.read().execute(
                "SELECT definition, origin FROM meters ORDER BY key").fetchall():
            rows.append({**orjson.loads(definition), "origin": origin})
        return rows

    def _stored_keys(self) -> list[str]:
        return [r[0] for r in self.db.read().execute("SELECT key FROM meters").fetchall()]

    # -- queries --------------------------------------------------------------------------
    def source_for(self, meter: MeterDef) -> str:
        """The relation a meter scans: the rated view for cost meters, else ``live_events``."""
        if not meter.needs_rating:
            return "live_events"
        if self._rated_view is None:
            raise NotFound(f"meter {meter.key!r} reads rated cost, but no rating view is configured")
        return self._rated_view()

    def query(self, key: str | MeterDef, by: Sequence[str] = (), start: datetime | None = None,
              end: datetime | None = None, tz: str = "UTC",
              customers: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Aggregate a meter over ``[start, end)``, grouped by fields and/or one window.

        Rows carry the group keys (in ``by`` order), ``value`` (a Decimal, or
        None when no event carried a value — e.g. cost of unpriced calls only),
        ``events`` (matching events) and, for meters over rated events,
        ``unpriced_events``.
        """
        meter = self.get(key) if isinstance(key, str) else key
        _check_zone(tz)
        groups = [(name, _group_expr(name, tz)) for name in (by or meter.group_by)]
        where = [condition_sql(meter)]
        params: list[Any] = []
        if start is not None:
            where.append("time >= ?")
            params.append(start)
        if end is not None:
            where.append("time < ?")
            params.append(end)
        if customers:
            where.append(f"subject IN ({', '.join('?' for _ in customers)})")
            params.extend(customers)
        select = [f"{expr} AS g{i}" for i, (_, expr) in enumerate(groups)]
        select += [*aggregate_sql(meter, "v"), "count(*) AS events"]
        if meter.needs_rating:
            select.append("count(*) FILTER (WHERE NOT priced) AS unpriced_events")
        group = " GROUP BY ALL ORDER BY ALL" if groups else ""
        sql = f"SELECT {', '.join(select)} FROM {self.source_for(meter)} WHERE {' AND '.join(where)}{group}"
        cur = self.db.read()
        result = cur.execute(sql, params)
        names = [d[0] for d in result.description]
        return [_row(meter, groups, dict(zip(names, r, strict=True))) for r in result.fetchall()]


def _check_zone(tz: str) -> None:
    """Windows are cut in an IANA timezone; an unknown name is refused, never read as UTC."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {tz!r} (use an IANA name like Europe/Paris)", where="tz") from None


def _group_expr(name: str, tz: str) -> str:
    if name in WINDOWS:
        return window_sql(name, tz)
    try:
        check_field(name, "by")
    except FieldError as exc:
        raise InvalidInput(f"--by: {exc.message}") from None
    return field_sql(name)


def meter_value(meter: MeterDef, raw: dict[str, Any], alias: str = "v") -> Decimal | None:
    """The meter's value from a result row (``avg`` divided exactly, to 18 places)."""
    if meter.aggregation == "avg":
        total, n = raw.get(f"{alias}__sum"), raw.get(f"{alias}__n")
        if not n:
            return None
        with localcontext(EXACT):
            return (Decimal(total or 0) / Decimal(n)).quantize(_SCALE)
    value = raw.get(alias)
    if value is None:
        return Decimal(0) if meter.aggregation in ("count", "unique_count") else None
    return value if isinstance(value, Decimal) else Decimal(value)


def _row(meter: MeterDef, groups: list[tuple[str, str]], raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {name: raw[f"g{i}"] for i, (name, _) in enumerate(groups)}
    value = meter_value(meter, raw)
    if value is None and meter.aggregation == "sum" and not raw["events"]:
        value = Decimal(0)  # a sum over no events; NULL over events means none carried a value
    out["value"] = value
    out["events"] = raw["events"]
    if "unpriced_events" in raw:
        out["unpriced_events"] = raw["unpriced_events"]
    return out
