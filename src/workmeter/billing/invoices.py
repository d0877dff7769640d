"""Finalized invoices, voids and credit notes: written once, never changed.

* Finalizing takes the next number of the customer's issuer (``WM-000001``,
  gap-free, in the same transaction as the invoice), stores the document,
  its lines (exact and rounded amounts), the credit burns, and the catalog
  and plan versions used.
* Void adds a row to ``billing_invoice_voids``: the invoice and its lines stay
  as issued, its burns stop counting, and its period can be invoiced again.
* A credit note (``WM-CN-000001``) reduces what a finalized invoice asks for,
  up to its total less earlier credit notes, with a reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import orjson

from workmeter.billing.amounts import ZERO, add, check_minor, exact_str, money_str
from workmeter.billing.documents import Draft
from workmeter.core.errors import Conflict, InvalidInput, NotFound
from workmeter.store.duckdb import Database

_LIVE = "number NOT IN (SELECT invoice FROM billing_invoice_voids)"


@dataclass
class History:
    """A customer's finalized, non-void invoices, as the engine needs them."""

    regular: dict[str, str] = field(default_factory=dict)  # period → number
    interims: dict[str, list[tuple[str, Decimal]]] = field(default_factory=lambda: defaultdict(list))
    interim_billed: dict[str, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    billed: dict[str, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))


def plain_details(details: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Line details as JSON values (Decimals as exact strings)."""
    return [{k: exact_str(v) if isinstance(v, Decimal) else v for k, v in d.items()} for d in details]


def _bump(into: dict[str, Decimal], charge: str, amount: Decimal) -> None:
    into[charge] = add(into.get(charge, ZERO), amount)


class Invoices:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writing ---------------------------------------------------------------------------
    def finalize(self, draft: Draft, issuer: str, now: datetime, customer_name: str | None = None) -> dict[str, Any]:
        """Number and store the draft; the document keeps the customer's name as it is now, so a
        later rename never changes a finalized invoice."""
        with self.db.write() as con:
            if draft.kind == "regular":  # checked again inside the writer: two finalizes cannot both win
                row = con.execute(f"SELECT number FROM billing_invoices WHERE customer = ? AND period = ? "
                                  f"AND kind = 'regular' AND {_LIVE}", [draft.customer, draft.period.key]).fetchone()
                if row is not None:
                    raise Conflict(f"{draft.customer} {draft.period.key} is already finalized as {row[0]}; "
                                   "void it first")
            number = _next_number(con, issuer, f"{issuer}-{{:06d}}")
            doc = draft.to_json(number, "finalized")
            if customer_name is not None:
                doc["customer_name"] = customer_name
            con.execute(
                "INSERT INTO billing_invoices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [number, issuer, int(number.rsplit("-", 1)[1]), draft.kind, draft.customer, draft.period.key,
                 draft.period.start, draft.period.end, draft.currency, draft.subtotal, draft.credits_applied,
                 draft.total, orjson.dumps(draft.catalog_versions).decode(),
                 orjson.dumps(draft.plan_versions).decode(), orjson.dumps(draft.warnings).decode(), now,
                 orjson.dumps(doc).decode()])
            if draft.lines:
                con.executemany("INSERT INTO billing_invoice_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                    [number, i, ln.charge, ln.description, ln.quantity, ln.unit_price, ln.amount_exact,
                     draft.amount(ln), ln.kind, ln.adjusts, orjson.dumps(plain_details(ln.details)).decode()]
                    for i, ln in enumerate(draft.lines)])
            if draft.burns:
                con.executemany("INSERT INTO billing_credit_burns VALUES (?, ?, ?)",
                                [[number, gid, amount] for gid, amount in draft.burns])
        return doc

    def void(self, number: str, reason: str, now: datetime) -> dict[str, Any]:
        self.header(number)
        with self.db.write() as con:
            if con.execute("SELECT 1 FROM billing_invoice_voids WHERE invoice = ?", [number]).fetchone():
                raise Conflict(f"invoice {number} is already void")
            con.execute("INSERT INTO billing_invoice_voids VALUES (?, ?, ?)", [number, reason, now])
        return self.document(number)

    def credit_note(self, number: str, amount: Decimal, reason: str, now: datetime) -> dict[str, Any]:
        head = self.header(number)
        if head["status"] == "void":
            raise Conflict(f"invoice {number} is void; a credit note needs a finalized invoice")
        check_minor(amount, head["currency"], "amount")
        if amount <= 0:
            raise InvalidInput("a credit note amount must be greater than 0")
        with self.db.write() as con:
            row = con.execute("SELECT coalesce(sum(amount), 0) FROM billing_credit_notes WHERE invoice = ?",
                              [number]).fetchone()
            credited = row[0] if row else ZERO
            if credited + amount > head["total_exact"]:
                raise Conflict(f"invoice {number} total is {money_str(head['total_exact'], head['currency'])}, "
                               f"already credited {money_str(credited, head['currency'])}: "
                               f"at most {money_str(head['total_exact'] - credited, head['currency'])} left")
            note = _next_number(con, f"{head['issuer']}:CN", f"{head['issuer']}-CN-{{:06d}}")
            con.execute("INSERT INTO billing_credit_notes VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [note, number, head["customer"], head["currency"], amount, reason, now])
        return {"number": note, "invoice": number, "customer": head["customer"], "currency": head["currency"],
                "amount": money_str(amount, head["currency"]), "reason": reason, "created_at": now.isoformat()}

    # -- reading ---------------------------------------------------------------------------
    def header(self, number: str) -> dict[str, Any]:
        row = self.db.read().execute(
            "SELECT number, issuer, kind, customer, period, currency, total, finalized_at, "
            "(SELECT reason FROM billing_invoice_voids WHERE invoice = number), "
            "(number IN (SELECT invoice FROM billing_invoice_voids)), catalog_versions, plan_versions "
            "FROM billing_invoices WHERE number = ?", [number]).fetchone()
        if row is None:
            raise NotFound(f"no invoice {number!r}")
        return {"number": row[0], "issuer": row[1], "kind": row[2], "customer": row[3], "period": row[4],
                "currency": row[5], "total_exact": row[6], "finalized_at": row[7], "void_reason": row[8],
                "status": "void" if row[9] else "finalized", "catalog_versions": orjson.loads(row[10]),
                "plan_versions": orjson.loads(row[11])}

    def document(self, number: str) -> dict[str, Any]:
        """The stored JSON document, with ``status`` showing a later void."""
        row = self.db.read().execute(
            "SELECT document, number IN (SELECT invoice FROM billing_invoice_voids) FROM billing_invoices "
            "WHERE number = ?", [number]).fetchone()
        if row is None:
            raise NotFound(f"no invoice {number!r}")
        doc: dict[str, Any] = orjson.loads(row[0])
        if row[1]:
            doc["status"] = "void"
        return doc

    def details(self, number: str) -> list[list[dict[str, Any]]]:
        rows = self.db.read().execute("SELECT details FROM billing_invoice_lines WHERE invoice = ? "
                                      "ORDER BY position", [number]).fetchall()
        return [orjson.loads(r[0]) if r[0] else [] for r in rows]

    def all(self, customer: str | None = None, period: str | None = None) -> list[dict[str, Any]]:
        where, params = ["true"], []
        if customer:
            where.append("customer = ?")
            params.append(customer)
        if period:
            where.append("period = ?")
            params.append(period)
        rows = self.db.read().execute(
            f"SELECT number, kind, customer, period, currency, subtotal, credits_applied, total, finalized_at, "
            f"number IN (SELECT invoice FROM billing_invoice_voids) FROM billing_invoices "
            f"WHERE {' AND '.join(where)} ORDER BY issuer, seq", params).fetchall()
        return [{"number": r[0], "kind": r[1], "customer": r[2], "period": r[3], "currency": r[4],
                 "subtotal": money_str(r[5], r[4]), "credits_applied": money_str(r[6], r[4]),
                 "total": money_str(r[7], r[4]), "status": "void" if r[9] else "finalized",
                 "finalized_at": r[8].isoformat()} for r in rows]

    def credit_notes(self, number: str) -> list[dict[str, Any]]:
        rows = self.db.read().execute("SELECT number, amount, currency, reason, created_at FROM billing_credit_notes "
                                      "WHERE invoice = ? ORDER BY number", [number]).fetchall()
        return [{"number": r[0], "amount": money_str(r[1], r[2]), "reason": r[3],
                 "created_at": r[4].isoformat()} for r in rows]

    def history(self, customers: Sequence[str] | None, since: str, exclude_adjustments_of: str | None = None
                ) -> dict[str, History]:
        """Finalized, non-void invoices from period ``since`` on, per customer (one query)."""
        where, params = [f"i.{_LIVE}", "i.period >= ?"], [since]
        if customers is not None:
            where.append(f"i.customer IN ({', '.join('?' for _ in customers)})" if customers else "false")
            params.extend(customers)
        rows = self.db.read().execute(
            f"SELECT i.customer, i.number, i.kind, i.period, i.subtotal, l.charge, l.kind, l.amount_exact, l.amount, "
            f"l.adjusts FROM billing_invoices i LEFT JOIN billing_invoice_lines l ON l.invoice = i.number "
            f"WHERE {' AND '.join(where)} ORDER BY i.seq, l.position", params).fetchall()
        out: dict[str, History] = defaultdict(History)
        seen: set[str] = set()
        for cust, number, kind, period, subtotal, charge, line_kind, amount, rounded, adjusts in rows:
            h = out[cust]
            if kind == "regular":
                h.regular[period] = number
            elif number not in seen:
                h.interims[period].append((number, subtotal))
            seen.add(number)
            if charge is None:
                continue
            if kind == "interim":
                _bump(h.interim_billed[period], charge, amount)
            elif line_kind == "adjustment" and adjusts and period != exclude_adjustments_of:
                _bump(h.billed[adjusts], charge, rounded)
            elif line_kind not in ("interim", "adjustment"):
                _bump(h.billed[period], charge, rounded)
        return out


def _next_number(con: duckdb.DuckDBPyConnection, sequence: str, pattern: str) -> str:
    row = con.execute("SELECT last FROM billing_sequences WHERE issuer = ?", [sequence]).fetchone()
    last = (row[0] if row else 0) + 1
    con.execute("INSERT OR REPLACE INTO billing_sequences VALUES (?, ?)", [sequence, last])
    return pattern.format(last)
