"""Shared query parameters, their OpenAPI schemas, and small parsing helpers for report routes.

Schemas are stated as precisely as the services check them (patterns for
group keys, months, dates and times), so a request the document calls valid
is one the server accepts.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import Query

from workmeter.core.errors import Forbidden, InvalidInput
from workmeter.core.timeutil import parse_instant
from workmeter.interfaces.api.auth import Principal
from workmeter.interfaces.api.errors import error_responses

MONTH_PATTERN = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
_INSTANT = re.compile(MONTH_PATTERN + "|" + r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" + "|"
                      + r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")
#: IANA timezone names this Python knows (what the billing periods accept).
TIMEZONES: tuple[str, ...] = tuple(sorted(zoneinfo.available_timezones()))
TZ_SCHEMA: dict[str, Any] = {"type": "string", "enum": list(TIMEZONES)}
#: What :func:`workmeter.core.timeutil.parse_instant` takes: a month, a date or an RFC 3339 time.
INSTANT_SCHEMA: dict[str, Any] = {"anyOf": [
    {"type": "string", "pattern": MONTH_PATTERN},
    {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"},
]}
MONTH_SCHEMA: dict[str, Any] = {"type": "string", "pattern": MONTH_PATTERN}
DATE_SCHEMA: dict[str, Any] = {"type": "string", "format": "date"}
ID_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 200}

def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """A body field that may also be ``null`` (treated as absent)."""
    return {"anyOf": [schema, {"type": "null"}]}


FROM = Query(None, alias="from", description="Start (inclusive): month, date or RFC 3339 time.",
             json_schema_extra=INSTANT_SCHEMA)
TO = Query(None, alias="to", description="End (exclusive): month, date or RFC 3339 time.",
           json_schema_extra=INSTANT_SCHEMA)
AS_OF = Query(None, alias="as_of", description="Judge inactivity and pending outcomes at this instant.",
              json_schema_extra=INSTANT_SCHEMA)
CUSTOMERS = Query(None, alias="customer", description="Only these customers (repeatable).")
CUSTOMER = Query(None, min_length=1, max_length=200, description="Only this customer.")
PERIOD = Query(..., pattern=MONTH_PATTERN, description="The billing month, like 2026-10 (customer's timezone).")


def instant(value: str | None, field: str) -> datetime | None:
    """A month, a date or an RFC 3339 time (absent → None); exactly what :data:`INSTANT_SCHEMA` states."""
    if value is None:
        return None
    if not _INSTANT.match(value):
        raise InvalidInput(f"{value!r} is not a month, a date or an RFC 3339 time", where=field)
    moment = parse_instant(value, field=field)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{value!r} is outside the years 1–9999 in UTC", where=field) from None


def timezone(value: str, field: str = "tz") -> str:
    if value not in TIMEZONES:
        raise InvalidInput(f"unknown timezone {value!r} (use an IANA name like Europe/Paris)", where=field)
    return value


def by_pattern(keys: Iterable[str], *, allow_empty: bool = False) -> str:
    """A comma-separated list of group keys, as a pattern (enforced and documented)."""
    alt = "|".join(keys)
    pattern = f"^({alt})(,({alt}))*$"
    return f"^$|{pattern}" if allow_empty else pattern


def split_by(by: str | None) -> list[str]:
    return [k.strip() for k in (by or "").split(",") if k.strip()]


def unbound_only(principal: Principal) -> None:
    """Reports that span every customer (or the provider's own costs) need an unbound key."""
    if principal.customer is not None:
        raise Forbidden("this endpoint spans every customer; it needs a key that is not bound to one",
                        where="customer")


def one_customer(principal: Principal, customer: str | None) -> str | None:
    """The single customer a query may see: a bound key's own, or what was asked."""
    if principal.customer is None:
        return customer
    if customer is not None and customer != principal.customer:
        raise Forbidden("this key is bound to another customer", where="customer")
    return principal.customer


def rows_doc(*errors: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: a JSON array of report rows (or CSV), plus the given error statuses."""
    return {200: {"description": "Report rows (the CLI's --json output)", "content": {
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        "text/csv": {"schema": {"type": "string"}}}},
        **error_responses(400, 401, 403, *errors)}


def object_doc(*errors: int, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: one JSON object (or a one-row CSV), plus the given error statuses."""
    return {status: {"description": "The CLI's --json output", "content": {
        "application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}},
        **error_responses(400, 401, 403, *errors)}
