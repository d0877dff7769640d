"""Report responses: the CLI's JSON, a cursor for pages, CSV on request.

A report route returns exactly the rows the CLI prints with ``--json``. When
the client passes ``limit``, the body holds one page of those rows and the
next page is named by a ``cursor`` in the ``X-Next-Cursor`` header and a
``Link: <…>; rel="next"`` header — the body shape never changes. The cursor
is the position of the next row in the report's stable order (reports are
sorted); pass it back unchanged. With
``Accept: text/csv`` the same rows come as CSV (nested values as JSON text).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson
from fastapi import Query, Request
from starlette.responses import Response

from workmeter.core.money import fmt


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return fmt(obj)
    return str(obj)


def dumps(obj: Any) -> bytes:
    """JSON exactly as the CLI prints it (Decimals as plain decimal strings)."""
    return orjson.dumps(obj, default=_default)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class Page:
    """``limit`` / ``cursor`` query parameters (a dependency)."""

    def __init__(
        self,
        limit: int | None = Query(None, ge=1, le=100_000, description="Rows per page (all rows when absent)."),
        cursor: str | None = Query(None, pattern=r"^[0-9]{1,12}$",
                                   description="The X-Next-Cursor of the previous page."),
    ) -> None:
        self.limit = limit
        self.cursor = cursor


def wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept.split(",")[0]


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return dumps(value).decode()
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rows_response(request: Request, rows: Sequence[dict[str, Any]], page: Page | None = None) -> Response:
    """One report's rows as JSON (or CSV), paged when the client asked for a limit."""
    headers: dict[str, str] = {}
    if page is not None and (page.limit is not None or page.cursor is not None):
        start = int(page.cursor) if page.cursor else 0
        end = start + (page.limit or len(rows))
        if end < len(rows):
            nxt = str(end)
            headers["X-Next-Cursor"] = nxt
            headers["Link"] = f'<{request.url.include_query_params(cursor=nxt)}>; rel="next"'
        rows = rows[start:end]
    if wants_csv(request):
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    return JSON(list(rows), headers=headers)


def object_response(request: Request, obj: Any) -> Response:
    """A single object (an invoice, a quote) as JSON, or as a one-row CSV."""
    if wants_csv(request) and isinstance(obj, dict):
        return Response(to_csv([obj]), media_type="text/csv; charset=utf-8")
    return JSON(obj)
