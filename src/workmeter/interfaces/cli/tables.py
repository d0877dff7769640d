"""Human tables: every value shown whole, laid out to fit the terminal where it can.

Rules (the JSON output is the exact, machine-readable form; tables are for people):

- A value is never cut short: identifiers, numbers and amounts keep their full
  width (a meter key or an invoice number can be copied from the table). Only
  prose (a value with spaces: descriptions, reasons, names) wraps, on words.
- Headers wrap on ``_`` (``cost_per_completed_task`` → ``cost per / completed / task``).
- Columns are two spaces apart, one when that makes the table fit; when the
  values alone are wider than the terminal, the table is printed at its own
  width (the terminal wraps the lines) rather than losing digits.
- Cells are plain text, never Rich markup: ``[void]`` in a value prints as is.
- Display formats: times to the second (``2026-10-01T00:00:00Z``), floats to
  3 decimals, Decimals through :func:`workmeter.core.money.fmt`, lists and
  objects as compact JSON.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from workmeter.core.money import fmt

_ISO = re.compile(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d|Z)?")


def cell_text(value: Any) -> str:
    """The display form of one value (see the module rules)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return short_time(value.isoformat())
    if isinstance(value, (dict, list, tuple)):
        return orjson.dumps(value, default=_plain).decode()
    text = str(value)
    return short_time(text) if _ISO.fullmatch(text) else text


def short_time(text: str) -> str:
    """``2026-10-01T12:00:00.123456+00:00`` → ``2026-10-01T12:00:00Z`` (other offsets kept)."""
    m = _ISO.fullmatch(text)
    if m is None:
        return text
    offset = m.group(3) or ""
    return m.group(1) + ("Z" if offset in ("+00:00", "Z") else offset)


def _plain(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return fmt(obj)
    return str(obj)


def is_number(text: str) -> bool:
    return text == "" or re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def _widths(headers: list[str], cells: list[list[str]], prose: list[bool], width: int) -> tuple[list[int], int]:
    """Each column's width (a prose column's minimum) and the gap between columns."""
    content = [max([len(w) for v in col for w in v.split()] if p else [len(v) for v in col], default=0)
               for col, p in zip(cells, prose, strict=True)]
    head = [max((len(w) for w in h.split()), default=0) for h in headers]
    widths = [max(c, h, 1) for c, h in zip(content, head, strict=True)]
    for gap in (2, 1):
        if sum(widths) + gap * (len(widths) - 1) <= width:
            return widths, gap
    excess = sum(widths) + len(widths) - 1 - width
    if sum(max(c, 4) for c in content) + len(widths) - 1 > width:  # too wide even with folded headers:
        longest = [max((len(v) for v in col), default=0) for col in cells]  # print it whole, prose roomier
        return [min(n, max(w, 30)) if p else w for w, n, p in zip(widths, longest, prose, strict=True)], 1
    while excess > 0:  # headers wider than their values fold, the widest first, until the table fits
        i = max(range(len(widths)), key=lambda j: widths[j] - max(content[j], 4))
        if widths[i] <= max(content[i], 4):
            break
        widths[i] -= 1
        excess -= 1
    return widths, 1


def render_table(console: Console, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None,
                 title: str | None = None) -> None:
    """Print rows as a table on ``console`` (see the module rules)."""
    cols = list(columns or rows[0].keys())
    cells = [[cell_text(r.get(c)) for r in rows] for c in cols]
    headers = [c.replace("_", " ") for c in cols]
    prose = [any(" " in v for v in col) for col in cells]
    widths, gap = _widths(headers, cells, prose, console.width)
    if title:  # its own line: a title wider than a narrow table is not wrapped into it
        console.print(Text(title, style="bold"), soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, padding=(0, gap - 1, 0, 0), show_edge=False, pad_edge=False)
    for head, col, w, p in zip(headers, cells, widths, prose, strict=True):
        numeric = all(is_number(v) for v in col)
        table.add_column(head, justify="right" if numeric and not p else "left", overflow="fold",
                         min_width=w if p else None, width=None if p else w)
    for i in range(len(rows)):
        table.add_row(*(Text(col[i]) for col in cells))
    need = sum(widths) + gap * (len(widths) - 1)
    if need <= console.width:
        console.print(table)
        return
    saved = console.width
    console.width = need
    try:
        console.print(table)
    finally:
        console.width = saved
