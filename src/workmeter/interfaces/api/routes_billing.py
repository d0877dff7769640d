"""Billing: meters, plans, customers, subscriptions, credits — the CLI's ``--json`` over HTTP.

Reads need the ``read`` scope; a customer-bound key sees only its own
customer (others are 403). Changes (plans, customers, subscriptions, grants)
need ``admin``. Dates given as ``YYYY-MM-DD`` mean local midnight in the
customer's timezone, as on the command line.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime

from fastapi import APIRouter, Path, Query, Request, Security
from starlette.responses import Response

from workmeter.billing.periods import local_midnight
from workmeter.core.errors import InvalidInput
from workmeter.core.timeutil import parse_day
from workmeter.interfaces.api.auth import ADMIN, READ, Principal, check_customer, subjects_for
from workmeter.interfaces.api.bodies import (
    CustomerEditIn,
    CustomerIn,
    GrantIn,
    MigrateIn,
    SubscribeIn,
    UnsubscribeIn,
    parse,
    schema,
)
from workmeter.interfaces.api.body import body_doc, media_type, read_body
from workmeter.interfaces.api.errors import UnsupportedMedia
from workmeter.interfaces.api.params import (
    CUSTOMERS,
    FROM,
    TO,
    TZ_SCHEMA,
    instant,
    object_doc,
    one_customer,
    rows_doc,
    split_by,
    timezone,
    unbound_only,
)
from workmeter.interfaces.api.render import JSON, object_response, rows_response

router = APIRouter(tags=["billing"])

_FIELD = r"(\$\.)?[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*"
#: Meter group keys: a column, ``attributes.X``, ``data.X`` / ``$.X``, or a window.
METER_BY = f"^$|^{_FIELD}(,{_FIELD})*$"

PLAN_MEDIA = ("text/plain", "application/toml")
DAY_OR_MONTH = re.compile(r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$")


def moment(text: str | None, tz: str, field: str) -> datetime | None:
    """A date or month means local midnight in ``tz``; a time needs its offset (as on the command line)."""
    if text is None:
        return None
    if not DAY_OR_MONTH.match(text):
        return instant(text, field)
    try:
        return local_midnight(date.fromisoformat(text if len(text) == 10 else text + "-01"), tz)
    except (ValueError, OverflowError):
        raise InvalidInput(f"{text!r} is not a date in years 1–9999", where=field) from None


# -- meters -------------------------------------------------------------------------------------
@router.get("/api/v1/meters", summary="Meters: built-in and plan-defined", responses=rows_doc())
def meters(request: Request, principal: Principal = Security(READ)) -> Response:
    return rows_response(request, request.app.state.wm.meters.all())


@router.get("/api/v1/meters/{key}/query", summary="Aggregate a meter over [from, to), grouped",
            responses=rows_doc(404))
def meter_query(request: Request, key: str = Path(..., min_length=1, max_length=200),
                by: str = Query("", pattern=METER_BY, max_length=500,
                                description="Group keys, comma separated: columns, attributes.X, data.X, "
                                            "and at most one window (hour, day, month)."),
                start: str | None = FROM, end: str | None = TO,
                tz: str = Query("UTC", json_schema_extra=TZ_SCHEMA),
                customer: list[str] | None = CUSTOMERS, principal: Principal = Security(READ)) -> Response:
    tz = timezone(tz)
    rows = request.app.state.wm.meters.query(key, split_by(by), moment(start, tz, "from"), moment(end, tz, "to"),
                                             tz, subjects_for(principal, customer))
    return rows_response(request, rows)


# -- plans --------------------------------------------------------------------------------------
@router.get("/api/v1/plans", summary="Every version of every plan", responses=rows_doc())
def plans(request: Request, principal: Principal = Security(READ)) -> Response:
    unbound_only(principal)
    return rows_response(request, request.app.state.wm.billing.plans.all())


@router.post("/api/v1/plans", summary="Apply a plan file (TOML); a changed plan becomes a new version",
             responses=rows_doc(409, 413, 415),
             openapi_extra=body_doc({"type": "string", "description": "The plan file (TOML)."}, "text/plain"))
async def apply_plan(request: Request, name: str = Query("plan.toml", min_length=1, max_length=200,
                                                         description="A name for error messages and audit."),
                     principal: Principal = Security(ADMIN)) -> Response:
    from workmeter.billing.plan_files import load_plan_text

    if media_type(request) not in PLAN_MEDIA:
        raise UnsupportedMedia("send the plan file as text/plain or application/toml", where="content-type")
    try:
        text = (await read_body(request, 1024 * 1024)).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the plan file must be UTF-8 text", where="body") from None
    billing = request.app.state.wm.billing
    plan = load_plan_text(text, name)
    result = await asyncio.to_thread(billing.plans.apply, plan, f"api:{name}", billing.clock())
    return JSON([result.as_dict()])


# -- customers ----------------------------------------------------------------------------------

@router.get("/api/v1/customers", summary="Customers (a bound key sees only its own)", responses=rows_doc())
def customers(request: Request, principal: Principal = Security(READ)) -> Response:
    rows = [c.as_dict() for c in request.app.state.wm.billing.customers.all()]
    if principal.customer is not None:
        rows = [r for r in rows if r["id"] == principal.customer]
    return rows_response(request, rows)


@router.get("/api/v1/customers/{customer}", summary="One customer", responses=object_doc(404))
def customer_get(request: Request, customer: str = Path(..., min_length=1, max_length=200),
                 principal: Principal = Security(READ)) -> Response:
    check_customer(principal, customer)
    return object_response(request, request.app.state.wm.billing.customers.get(customer).as_dict())


@router.post("/api/v1/customers", summary="Add a customer (its id is the subject of its events)",
             responses=rows_doc(409, 413), openapi_extra=schema(CustomerIn))
async def customer_add(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, CustomerIn)
    customer = await asyncio.to_thread(request.app.state.wm.billing.add_customer, b.id, b.name,
                                       b.currency or "USD", b.timezone or "UTC", b.issuer or "WM")
    return JSON([customer.as_dict()])


@router.patch("/api/v1/customers/{customer}",
              summary="Change a customer's name, currency, timezone or issuer; answers the customer",
              responses=object_doc(404, 409, 413), openapi_extra=schema(CustomerEditIn))
async def customer_edit(request: Request, customer: str = Path(..., min_length=1, max_length=200),
                        principal: Principal = Security(ADMIN)) -> Response:
    """The timezone cannot change once an invoice is finalized, the currency once anything is billed in it (409)."""
    b = await parse(request, CustomerEditIn)
    updated = await asyncio.to_thread(request.app.state.wm.billing.update_customer, customer, name=b.name,
                                      currency=b.currency, timezone=b.timezone, issuer=b.issuer)
    return JSON(updated.as_dict())


# -- subscriptions ------------------------------------------------------------------------------

@router.get("/api/v1/subscriptions", summary="Each customer's plan spans [start, end)", responses=rows_doc())
def subscriptions(request: Request, customer: str | None = Query(None, min_length=1, max_length=200),
                  principal: Principal = Security(READ)) -> Response:
    rows = request.app.state.wm.billing.list_subscriptions(one_customer(principal, customer))
    return rows_response(request, rows)


@router.post("/api/v1/subscriptions", summary="Put a customer on a plan from a local date",
             responses=rows_doc(404, 409, 413), openapi_extra=schema(SubscribeIn))
async def subscribe(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, SubscribeIn)
    span = await asyncio.to_thread(request.app.state.wm.billing.subscribe, b.customer, b.plan,
                                   parse_day(b.start, "start"), b.version)
    return JSON([span.as_dict()])


@router.post("/api/v1/subscriptions/migrate",
             summary="Move subscriptions on older versions of a plan to a newer one (default: the latest)",
             responses=rows_doc(404, 409, 413), openapi_extra=schema(MigrateIn))
async def migrate(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    """Effective ``at`` (a local date), by default the first day of each customer's next period."""
    b = await parse(request, MigrateIn)
    at = parse_day(b.at, "at") if b.at else None
    moved = await asyncio.to_thread(request.app.state.wm.billing.migrate, b.plan, b.to_version, b.customer, at)
    return JSON(moved)


@router.post("/api/v1/subscriptions/end",
             summary="End a customer's service from a local date (exclusive); answers its plan spans",
             responses=rows_doc(404, 409, 413), openapi_extra=schema(UnsubscribeIn))
async def unsubscribe(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, UnsubscribeIn)
    billing = request.app.state.wm.billing
    await asyncio.to_thread(billing.unsubscribe, b.customer, parse_day(b.end, "end"))
    return JSON(billing.list_subscriptions(b.customer))


# -- credits ------------------------------------------------------------------------------------

@router.get("/api/v1/customers/{customer}/credits", summary="Real-time credit balance and grants",
            responses=object_doc(404))
def credit_balance(request: Request, customer: str = Path(..., min_length=1, max_length=200),
                   principal: Principal = Security(READ)) -> Response:
    check_customer(principal, customer)
    return object_response(request, request.app.state.wm.billing.credit_balance(customer))


@router.post("/api/v1/customers/{customer}/credits", summary="Grant prepaid credit in the customer's currency",
             responses=rows_doc(404, 409, 413), openapi_extra=schema(GrantIn))
async def credit_grant(request: Request, customer: str = Path(..., min_length=1, max_length=200),
                       principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, GrantIn)
    billing = request.app.state.wm.billing
    tz = billing.customers.get(customer).timezone
    grant = await asyncio.to_thread(billing.grant_credits, customer, b.amount, b.priority or 0,
                                    moment(b.expires, tz, "expires"), moment(b.effective, tz, "effective"),
                                    b.reason or "")
    return JSON([grant.as_dict(billing.clock())])
