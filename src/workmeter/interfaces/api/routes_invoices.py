"""Invoices and statements: preview, finalize, list, show (JSON, CSV, HTML), void, credit notes.

The JSON documents are what ``workmeter invoices … --json`` prints. A bound
key reads only its customer's invoices and statement (another customer's
invoice number is 403). Finalize, void, credit notes and runs need ``admin``.
``GET /api/v1/invoices/{number}`` with ``Accept: text/csv`` answers the
spreadsheet CSV of ``invoices show --csv``; ``/html`` the printable page.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Security
from starlette.responses import HTMLResponse, Response

from workmeter.interfaces.api.auth import ADMIN, READ, Principal, check_customer
from workmeter.interfaces.api.bodies import CreditNoteIn, FinalizeIn, VoidIn, parse, schema
from workmeter.interfaces.api.errors import error_responses
from workmeter.interfaces.api.params import (
    MONTH_PATTERN,
    PERIOD,
    object_doc,
    one_customer,
    rows_doc,
)
from workmeter.interfaces.api.render import JSON, object_response, rows_response, wants_csv

router = APIRouter(tags=["invoices"])

NUMBER = Path(..., min_length=1, max_length=100, description="The invoice number, like WM-000001.")
CUSTOMER_PATH = Path(..., min_length=1, max_length=200)


def _billing(request: Request) -> Any:
    return request.app.state.wm.billing


def _own_invoice(request: Request, principal: Principal, number: str) -> dict[str, Any]:
    doc: dict[str, Any] = _billing(request).show(number)
    check_customer(principal, doc["customer"])
    return doc


@router.get("/api/v1/invoices", summary="Finalized and void invoices, in number order", responses=rows_doc())
def invoices(request: Request, customer: str | None = Query(None, min_length=1, max_length=200),
             period: str | None = Query(None, pattern=MONTH_PATTERN),
             principal: Principal = Security(READ)) -> Response:
    return rows_response(request, _billing(request).list_invoices(one_customer(principal, customer), period))


@router.get("/api/v1/customers/{customer}/invoices/preview",
            summary="The draft invoice, recomputed from the ledger", responses=object_doc(404))
def preview(request: Request, customer: str = CUSTOMER_PATH, period: str = PERIOD,
            principal: Principal = Security(READ)) -> Response:
    check_customer(principal, customer)
    return object_response(request, _billing(request).preview(customer, period))


@router.get("/api/v1/customers/{customer}/statement",
            summary="Usage per model and bucket, and what each invoice line is made of", responses=object_doc(404))
def statement(request: Request, customer: str = CUSTOMER_PATH, period: str = PERIOD,
              principal: Principal = Security(READ)) -> Response:
    check_customer(principal, customer)
    return object_response(request, _billing(request).statement(customer, period))


@router.get("/api/v1/invoices/{number}", summary="A finalized invoice (JSON, or CSV with Accept: text/csv)",
            responses=object_doc(404))
def invoice(request: Request, number: str = NUMBER, principal: Principal = Security(READ)) -> Response:
    from workmeter.billing.render import invoice_csv

    doc = _own_invoice(request, principal, number)
    if wants_csv(request):
        return Response(invoice_csv(doc), media_type="text/csv; charset=utf-8")
    return JSON(doc)


@router.get("/api/v1/invoices/{number}/html", summary="A finalized invoice as a printable page",
            response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}},
                       **error_responses(400, 401, 403, 404)})
def invoice_html(request: Request, number: str = NUMBER, principal: Principal = Security(READ)) -> Response:
    from workmeter.billing.render import invoice_html as render

    doc = _own_invoice(request, principal, number)
    return HTMLResponse(render(doc, _billing(request).show_extras(number)))


@router.post("/api/v1/invoices/finalize", summary="Number and freeze a period's invoice",
             responses=object_doc(404, 409, 413), openapi_extra=schema(FinalizeIn))
async def finalize(request: Request, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, FinalizeIn)
    return JSON(await asyncio.to_thread(_billing(request).finalize, b.customer, b.period, b.early))


@router.post("/api/v1/invoices/{number}/void", summary="Void a finalized invoice",
             responses=object_doc(404, 409, 413), openapi_extra=schema(VoidIn))
async def void(request: Request, number: str = NUMBER, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, VoidIn)
    return JSON(await asyncio.to_thread(_billing(request).void, number, b.reason or ""))


@router.post("/api/v1/invoices/{number}/credit-notes", summary="Issue a credit note against an invoice",
             responses=rows_doc(404, 409, 413), openapi_extra=schema(CreditNoteIn))
async def credit_note(request: Request, number: str = NUMBER, principal: Principal = Security(ADMIN)) -> Response:
    b = await parse(request, CreditNoteIn)
    note = await asyncio.to_thread(_billing(request).credit_note, number, b.amount, b.reason)
    return JSON([note])


@router.post("/api/v1/invoices/run", summary="Draft (or finalize) every subscribed customer's invoice",
             responses=rows_doc(413))
def run(request: Request, period: str = PERIOD, finalize: bool = Query(False),
        principal: Principal = Security(ADMIN)) -> Response:
    return rows_response(request, _billing(request).run(period, finalize))
