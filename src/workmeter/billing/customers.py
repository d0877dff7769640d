"""Customers: who is billed, in which currency, in which timezone, by which issuer.

The customer id is the ``subject`` of their events. The timezone decides
where their months start and end; the issuer names the invoice number
sequence (``WM-000001``, ``WM-000002``, …: one gap-free sequence per issuer).

Editing a customer (:meth:`Customers.update`, rules in
:meth:`workmeter.billing.service.BillingService.update_customer`):

* ``name`` and ``issuer`` can always change (a new issuer numbers the
  invoices finalized from then on; issued numbers never change);
* ``timezone`` only while the customer has no finalized (non-void) invoice:
  it decides where every period starts and ends, and a finalized period's
  bounds must not move (events would be billed twice or never);
* ``currency`` only while nothing is priced in it yet: no subscription, no
  credit grant, no invoice.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from workmeter.billing.periods import zone
from workmeter.core.errors import Conflict, InvalidInput, NotFound
from workmeter.store.duckdb import Database

_ISSUER = re.compile(r"^[A-Z0-9][A-Z0-9\-]{0,15}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    currency: str = "USD"
    timezone: str = "UTC"
    issuer: str = "WM"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_customer(c: Customer) -> Customer:
    if not c.id.strip():
        raise InvalidInput("customer id must not be empty")
    if not _CURRENCY.match(c.currency):
        raise InvalidInput(f"currency {c.currency!r} is not an ISO 4217 code like USD")
    if not _ISSUER.match(c.issuer):
        raise InvalidInput(f"issuer {c.issuer!r}: use up to 16 capital letters, digits or '-'")
    zone(c.timezone)
    return c


class Customers:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, customer: Customer, now: datetime) -> Customer:
        """Add a customer; adding the same one again is a no-op, a different one a conflict."""
        check_customer(customer)
        with self.db.write() as con:
            row = con.execute("SELECT id, name, currency, timezone, issuer FROM billing_customers WHERE id = ?",
                              [customer.id]).fetchone()
            if row is not None:
                stored = Customer(*row)
                if stored != customer:
                    diff = ", ".join(f"{k} {v!r} (given {getattr(customer, k)!r})" for k, v in stored.as_dict().items()
                                     if v != getattr(customer, k))
                    raise Conflict(f"customer {customer.id!r} already exists with {diff}", where=customer.id)
                return customer
            con.execute("INSERT INTO billing_customers VALUES (?, ?, ?, ?, ?, ?)",
                        [customer.id, customer.name, customer.currency, customer.timezone, customer.issuer, now])
        return customer

    def update(self, customer_id: str, changes: dict[str, str]) -> Customer:
        """Store new values of ``name``, ``currency``, ``timezone`` or ``issuer`` (checked, not the rules above)."""
        updated = check_customer(replace(self.get(customer_id), **changes))
        if updated.name.strip() == "":
            raise InvalidInput("a customer's name must not be empty", where="name")
        with self.db.write() as con:
            con.execute("UPDATE billing_customers SET name = ?, currency = ?, timezone = ?, issuer = ? WHERE id = ?",
                        [updated.name, updated.currency, updated.timezone, updated.issuer, customer_id])
        return updated

    def get(self, customer_id: str) -> Customer:
        row = self.db.read().execute(
            "SELECT id, name, currency, timezone, issuer FROM billing_customers WHERE id = ?",
            [customer_id]).fetchone()
        if row is None:
            raise NotFound(f"no customer {customer_id!r} (add it with: workmeter customers add {customer_id})")
        return Customer(*row)

    def all(self) -> list[Customer]:
        rows = self.db.read().execute(
            "SELECT id, name, currency, timezone, issuer FROM billing_customers ORDER BY id").fetchall()
        return [Customer(*r) for r in rows]
