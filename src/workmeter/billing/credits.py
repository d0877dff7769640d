"""Prepaid credits: grants that pay invoices, burned in a fixed order.

Rules:

* A grant has an amount (in the customer's currency, at most its minor
  unit), a priority (lower burns first, default 0), the instant it becomes
  usable and an optional expiry instant.
* A grant can pay an invoice when it is usable at the time the invoice is
  computed (``effective_at`` ≤ now: prepaid credit granted after a period
  still pays that period's invoice) and did not expire before the period
  started (a grant expiring mid-period still pays for that period).
* Burn order: priority, then soonest expiry (no expiry last), then oldest,
  then id. An invoice takes ``min(subtotal, eligible remaining)``.
* Burns are written when an invoice is finalized; a voided invoice's burns
  are released. Balances are computed at query time from grants, burns and
  the live drafts of open periods (see ``BillingService.credit_balance``).
* A grant past its expiry with a remainder reports that remainder as
  ``expired``; nothing disappears silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from workmeter.billing.amounts import ZERO
from workmeter.core.money import fmt_fixed
from workmeter.store.duckdb import Database

_FAR = datetime.max.replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    customer: str
    amount: Decimal
    currency: str
    priority: int
    effective_at: datetime
    expires_at: datetime | None
    reason: str
    remaining: Decimal

    def eligible(self, period_start: datetime, as_of: datetime) -> bool:
        return self.effective_at <= as_of and (self.expires_at is None or self.expires_at > period_start)

    def order(self) -> tuple[int, datetime, datetime, str]:
        expiry = self.expires_at.replace(tzinfo=None) if self.expires_at else _FAR
        return (self.priority, expiry, self.effective_at.replace(tzinfo=None), self.id)

    def as_dict(self, at: datetime) -> dict[str, Any]:
        expired = self.expires_at is not None and self.expires_at <= at
        status = ("exhausted" if self.remaining <= 0 else "expired" if expired
                  else "pending" if self.effective_at > at else "active")
        return {"id": self.id, "amount": fmt_fixed(self.amount, self.currency),
                "remaining": fmt_fixed(self.remaining, self.currency), "priority": self.priority,
                "effective_at": self.effective_at.isoformat(),
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "status": status, "reason": self.reason}


def allocate(grants: list[Grant], amount: Decimal, period_start: datetime, as_of: datetime
             ) -> tuple[list[tuple[str, Decimal]], list[Grant]]:
    """Burn ``amount`` from eligible grants in burn order; return burns and the grants after."""
    burns: list[tuple[str, Decimal]] = []
    after: list[Grant] = []
    left = max(amount, ZERO)
    for g in sorted(grants, key=Grant.order):
        take = min(left, g.remaining) if left > 0 and g.remaining > 0 and g.eligible(period_start, as_of) else ZERO
        if take > 0:
            burns.append((g.id, take))
            left -= take
            g = replace(g, remaining=g.remaining - take)
        after.append(g)
    return burns, after


class Credits:
    def __init__(self, db: Database) -> None:
        self.db = db

    def grant(self, customer: str, amount: Decimal, currency: str, priority: int, effective_at: datetime,
              expires_at: datetime | None, reason: str, now: datetime) -> Grant:
        with self.db.write() as con:
            row = con.execute("SELECT count(*) + 1 FROM billing_credit_grants").fetchone()
            grant_id = f"CR-{row[0] if row else 1:06d}"
            con.execute("INSERT INTO billing_credit_grants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [grant_id, customer, amount, currency, priority, effective_at, expires_at, reason, now])
        return Grant(grant_id, customer, amount, currency, priority, effective_at, expires_at, reason, amount)

    def grants(self, customers: Sequence[str] | None) -> dict[str, list[Grant]]:
        """Each customer's grants with what finalized, non-void invoices left of them (one query).

        ``customers`` None means every customer.
        """
        where = "true" if customers is None else \
            f"g.customer IN ({', '.join('?' for _ in customers)})" if customers else "false"
        rows = self.db.read().execute(
            f"""SELECT g.id, g.customer, g.amount, g.currency, g.priority, g.effective_at, g.expires_at,
                      coalesce(g.reason, ''),
                      g.amount - coalesce((SELECT sum(b.amount) FROM billing_credit_burns b
                          WHERE b.grant_id = g.id AND b.invoice NOT IN (SELECT invoice FROM billing_invoice_voids)), 0)
               FROM billing_credit_grants g WHERE {where} ORDER BY g.id""",
            list(customers or [])).fetchall()
        out: dict[str, list[Grant]] = {c: [] for c in customers or []}
        for r in rows:
            out.setdefault(r[1], []).append(Grant(*r))
        return out
