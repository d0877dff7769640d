"""Invoice rendering: printable HTML (every value escaped), CSV, and PDF when a library is there.

PDF output uses WeasyPrint when it is installed (``pip install weasyprint``);
without it :func:`write_pdf` raises :class:`InvalidInput` saying so, and the
HTML prints to PDF from any browser.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from html import escape
from pathlib import Path
from typing import Any

from workmeter.core.errors import InvalidInput

_CSS = """
body { font: 13px/1.45 -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; margin: 2.5em; }
h1 { font-size: 22px; margin: 0 0 .2em; } .muted { color: #666; }
table { border-collapse: collapse; width: 100%; margin: 1.2em 0; }
th, td { padding: 6px 8px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { border: none; font-weight: 600; } .warn { background: #fff4e5; padding: .6em 1em; }
.void { color: #b00; font-weight: 700; letter-spacing: .1em; }
@media print { body { margin: 1cm; } }
"""

CSV_COLUMNS = ("number", "customer", "period_start", "period_end", "currency", "status", "charge", "description",
               "quantity", "unit_price", "amount_exact", "amount")


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def invoice_html(doc: dict[str, Any], extra: dict[str, Any] | None = None) -> str:
    """A self-contained printable page for one invoice document (the JSON shape)."""
    extra = extra or {}
    cur = doc["currency"]
    rows = "".join(
        f"<tr><td>{_e(ln['charge'])}</td><td>{_e(ln['description'])}</td><td class=num>{_e(ln['quantity'])}</td>"
        f"<td class=num>{_e(ln['unit_price'])}</td><td class=num>{_e(ln['amount'])}</td></tr>"
        for ln in doc["lines"])
    status = "<span class=void>VOID</span>" if doc["status"] == "void" else _e(doc["status"])
    warnings = "".join(f"<p class=warn>{_e(w.get('message', w))}</p>" for w in doc.get("warnings", []))
    notes = "".join(f"<tr><td>{_e(n['number'])}</td><td>{_e(n['reason'])}</td>"
                    f"<td class=num>-{_e(n['amount'])}</td></tr>" for n in extra.get("credit_notes", []))
    notes_html = f"<h2>Credit notes</h2><table>{notes}</table>" if notes else ""
    versions = _e(", ".join(extra.get("catalog_versions", []))) or "—"
    plans = _e(", ".join(f"{p['plan']} v{p['version']}" for p in extra.get("plan_versions", []))) or "—"
    title = _e(doc["number"] or "Draft invoice")
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>Invoice {title}</title><style>{_CSS}</style></head>
<body>
<h1>Invoice {title}</h1>
<p class=muted>Customer <b>{_e(extra.get('customer_name') or doc['customer'])}</b> ({_e(doc['customer'])})
· {_e(billed_days(doc['period']))} · {_e(cur)} · status {status}</p>
{warnings}
<table><thead><tr><th>Charge</th><th>Description</th><th class=num>Quantity</th><th class=num>Unit price</th>
<th class=num>Amount</th></tr></thead>
<tbody>{rows}</tbody>
<tfoot><tr><td colspan=4 class=num>Subtotal</td><td class=num>{_e(doc['subtotal'])}</td></tr>
<tr><td colspan=4 class=num>Credits applied</td><td class=num>-{_e(doc['credits_applied'])}</td></tr>
<tr><td colspan=4 class=num>Total due ({_e(cur)})</td><td class=num>{_e(doc['total'])}</td></tr></tfoot></table>
{notes_html}
<p class=muted>Amounts are exact amounts rounded half-even to the minor unit, once per line.
Plan versions: {plans}. Price catalog: {versions}.</p>
</body></html>
"""


def billed_days(period: dict[str, str]) -> str:
    """``1 Oct 2026 – 31 Oct 2026`` for a period of whole local days, else its instants ``[start, end)``."""
    start, end = datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])
    if start.timetz() != time(0, tzinfo=start.tzinfo) or end.timetz() != time(0, tzinfo=end.tzinfo):
        return f"period {period['start']} to {period['end']} (end exclusive)"
    last = end.date() - timedelta(days=1)
    return f"{start.day} {start:%b %Y} – {last.day} {last:%b %Y}"


def invoice_csv(doc: dict[str, Any]) -> str:
    """One row per line, with the invoice's identity repeated (spreadsheet-friendly)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    head = [doc["number"] or "", doc["customer"], doc["period"]["start"], doc["period"]["end"], doc["currency"],
            doc["status"]]
    for ln in doc["lines"]:
        writer.writerow([*head, ln["charge"], ln["description"], ln["quantity"], ln["unit_price"] or "",
                         ln["amount_exact"], ln["amount"]])
    for name in ("subtotal", "credits_applied", "total"):
        writer.writerow([*head, name, "", "", "", "", doc[name]])
    return out.getvalue()


def write_pdf(html_text: str, path: str | Path) -> None:
    try:
        from weasyprint import HTML  # type: ignore[import-not-found]
    except ImportError:
        raise InvalidInput("PDF output needs WeasyPrint (pip install weasyprint); "
                           "use --html and print it to PDF from a browser") from None
    HTML(string=html_text).write_pdf(str(path))
