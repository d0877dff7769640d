"""The billing service: customers, plans, subscriptions, credits and invoices.

Built once by :class:`workmeter.app.Workmeter` (``app.billing``). Every
method that depends on "now" reads the injected clock, so whole billing
periods can be replayed on a frozen clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from workmeter.billing.amounts import add, check_minor, money_str, to_decimal
from workmeter.billing.credits import Credits, Grant, allocate
from workmeter.billing.customers import Customer, Customers
from workmeter.billing.documents import Draft
from workmeter.billing.invoices import Invoices
from workmeter.billing.invoicing import Drafter, Gathered
from workmeter.billing.periods import local_midnight, month_period, period_at
from workmeter.billing.plan_store import ApplyResult, Plans
from workmeter.billing.statement import build_statement, finalized_warning
from workmeter.billing.store import BILLING_DDL
from workmeter.billing.subscriptions import Span, Subscriptions
from workmeter.core.errors import Conflict, InvalidInput
from workmeter.meters.service import MeterService
from workmeter.store.duckdb import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class BillingService:
    def __init__(self, db: Database, meters: MeterService, rated_view: Callable[[], str | None] | None = None,
                 clock: Clock | None = None, lookback: int = 12) -> None:
        db.ensure(*BILLING_DDL)
        self.db = db
        self.meters = meters
        self.clock = clock or utc_now
        self.customers = Customers(db)
        self.plans = Plans(db, meters)
        self.subscriptions = Subscriptions(db)
        self.credits = Credits(db)
        self.invoices = Invoices(db)
        self.drafter = Drafter(db, self.plans, self.subscriptions, self.credits, self.invoices, meters,
                               rated_view or (lambda: None), lookback)

    # -- customers, plans, subscriptions ---------------------------------------------------
    def add_customer(self, customer_id: str, name: str | None = None, currency: str = "USD",
                     timezone: str = "UTC", issuer: str = "WM") -> Customer:
        return self.customers.add(Customer(customer_id, name or customer_id, currency.upper(), timezone, issuer),
                                  self.clock())

    def update_customer(self, customer_id: str, *, name: str | None = None, currency: str | None = None,
                        timezone: str | None = None, issuer: str | None = None) -> Customer:
        """Change a customer's name, currency, timezone or issuer (rules: :mod:`workmeter.billing.customers`).

        Values equal to the stored ones are no change; with no change the customer is returned as is.
        """
        c = self.customers.get(customer_id)
        given = {"name": name, "currency": currency.upper() if currency else None, "timezone": timezone,
                 "issuer": issuer}
        changes = {k: v for k, v in given.items() if v is not None and v != getattr(c, k)}
        if not changes:
            return c
        if "timezone" in changes:
            numbers = [i["number"] for i in self.invoices.all(c.id) if i["status"] != "void"]
            if numbers:
                raise Conflict(f"{c.id} has finalized invoices ({', '.join(numbers[:3])}"
                               f"{', …' if len(numbers) > 3 else ''}) whose periods its timezone "
                               f"{c.timezone} decides: it cannot change (void them first)", where="timezone")
        if "currency" in changes:
            self._check_currency_unused(c)
        return self.customers.update(c.id, changes)

    def _check_currency_unused(self, c: Customer) -> None:
        used = [what for what, found in (
            ("subscriptions", self.subscriptions.spans([c.id]).get(c.id)),
            ("credit grants", self.credits.grants([c.id]).get(c.id)),
            ("invoices", self.invoices.all(c.id))) if found]
        if used:
            raise Conflict(f"{c.id} already has {' and '.join(used)} in {c.currency}: its currency cannot change",
                           where="currency")

    def apply_plans(self, paths: Sequence[str | Path]) -> list[ApplyResult]:
        return self.plans.apply_files(paths, self.clock())

    def subscribe(self, customer_id: str, plan_key: str, start: date, version: int | None = None) -> Span:
        """Put a customer on a plan version from ``start`` (a plan change if already subscribed)."""
        customer = self.customers.get(customer_id)
        version = version or self.plans.latest_version(plan_key)
        plan = self.plans.get(plan_key, version)
        if plan.currency != customer.currency:
            raise Conflict(f"plan {plan_key!r} bills in {plan.currency}, customer {customer_id!r} in "
                           f"{customer.currency}")
        self.subscriptions.add(customer_id, plan_key, version, start, self.clock(), "subscribe")
        span = self.subscriptions.active(customer_id, start)
        assert span is not None
        return span

    def unsubscribe(self, customer_id: str, end: date) -> None:
        """End service from ``end`` (local date, exclusive); refused when no plan runs on that day."""
        self.customers.get(customer_id)
        if self.subscriptions.active(customer_id, end) is None:
            raise Conflict(f"{customer_id} is on no plan on {end.isoformat()}: nothing to end", where="end")
        self.subscriptions.add(customer_id, None, None, end, self.clock(), "unsubscribe")

    def list_subscriptions(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        spans = self.subscriptions.spans([customer_id] if customer_id else None)
        return [s.as_dict() for c in sorted(spans) for s in spans[c]]

    def migrate(self, plan_key: str, to_version: int | None = None, customer_id: str | None = None,
                at: date | None = None) -> list[dict[str, Any]]:
        """Move subscriptions on older versions of a plan to ``to_version`` (default: latest).

        Effective ``at`` (a local date), by default the first day of each
        customer's next period, so the current period stays on its version.
        """
        target = to_version or self.plans.latest_version(plan_key)
        self.plans.get(plan_key, target)
        moved = []
        customers = [self.customers.get(customer_id)] if customer_id else self.customers.all()
        for c in customers:
            when = at or period_at(self.clock(), c.timezone).next().first
            span = self.subscriptions.active(c.id, when)
            if span is None or span.plan_key != plan_key or span.plan_version == target:
                continue
            self.subscriptions.add(c.id, plan_key, target, when, self.clock(), f"migrate from v{span.plan_version}")
            moved.append({"customer": c.id, "plan": plan_key, "from_version": span.plan_version,
                          "to_version": target, "effective": when.isoformat()})
        return moved

    # -- credits ---------------------------------------------------------------------------
    def grant_credits(self, customer_id: str, amount: Decimal | str | int, priority: int = 0,
                      expires: datetime | date | None = None, effective: datetime | date | None = None,
                      reason: str = "") -> Grant:
        """Grant prepaid credit; a date for ``expires``/``effective`` means local midnight of that day."""
        c = self.customers.get(customer_id)
        value = check_minor(to_decimal(amount, field="amount"), c.currency, "amount")
        if value <= 0:
            raise InvalidInput("a credit grant must be greater than 0")
        start = self._instant(effective, c) if effective is not None else self.clock()
        end = self._instant(expires, c) if expires is not None else None
        if end is not None and end <= start:
            raise InvalidInput("a grant must expire after it becomes usable")
        return self.credits.grant(c.id, value, c.currency, priority, start, end, reason, self.clock())

    @staticmethod
    def _instant(value: datetime | date, c: Customer) -> datetime:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise InvalidInput("give a time with its UTC offset, or a date")
            return value
        return local_midnight(value, c.timezone)

    def credit_balance(self, customer_id: str, at: datetime | None = None) -> dict[str, Any]:
        """Real-time balance: grants − finalized burns − what open drafts would burn now.

        Open drafts are the previous period (until its invoice is finalized)
        and the current one (flat fees and usage so far; a minimum-commitment
        true-up is not pending before the period ends).
        """
        c = self.customers.get(customer_id)
        at = at or self.clock()
        current = period_at(at, c.timezone)
        grants = self.credits.grants([c.id]).get(c.id, [])
        pending = []
        for period in (current.previous(), current):
            g = self.drafter.gather({c.id: period}, [c], [c.id], with_prior=False)[0]
            if period.key in g.history.regular or not g.parts:
                continue
            draft = self.drafter.regular(Gathered(c, period, g.parts, {}, g.history, grants), at)
            amount = draft.subtotal
            if at < period.end:  # a minimum-commitment true-up is only owed when the period closes
                amount -= add(*(draft.amount(ln) for ln in draft.lines if ln.charge == "minimum_commitment"))
            burns, grants = allocate(grants, amount, period.start, at)
            pending.extend(burns)
        usable = [g for g in grants if g.effective_at <= at and (g.expires_at is None or g.expires_at > at)]
        expired = [g for g in grants if g.expires_at is not None and g.expires_at <= at and g.remaining > 0]
        cur = c.currency
        return {"customer": c.id, "currency": cur, "at": at.isoformat(),
                "balance": money_str(add(*(g.remaining for g in usable)), cur),
                "pending_usage": money_str(add(*(a for _, a in pending)), cur),
                "expired": money_str(add(*(g.remaining for g in expired)), cur),
                "grants": [g.as_dict(at) for g in grants]}

    # -- invoices --------------------------------------------------------------------------
    def draft(self, customer_id: str, period_key: str) -> Draft:
        c = self.customers.get(customer_id)
        period = month_period(period_key, c.timezone)
        g = self.drafter.gather({c.id: period}, [c], [c.id])[0]
        return self.drafter.regular(g, self.clock())

    def preview(self, customer_id: str, period_key: str) -> dict[str, Any]:
        """The draft invoice: recomputed from the ledger on every call, never stored.

        For a period already finalized the draft is still the recomputation, with a
        ``finalized`` warning naming the invoice: that invoice does not change, and
        any difference is billed as adjustment lines on the next period's invoice.
        """
        c = self.customers.get(customer_id)
        period = month_period(period_key, c.timezone)
        g = self.drafter.gather({c.id: period}, [c], [c.id])[0]
        doc = self.drafter.regular(g, self.clock()).to_json()
        number = g.history.regular.get(period.key)
        if number:
            doc["warnings"] = [*doc["warnings"], finalized_warning(period.key, number)]
        if not g.parts:
            doc["warnings"] = [*doc["warnings"], {
                "code": "no_subscription", "message": f"{c.id} has no subscription in {period.key}: nothing is "
                                                      f"billed (subscribe it with: workmeter subscribe {c.id} PLAN)"}]
        return doc

    def finalize(self, customer_id: str, period_key: str, early: bool = False) -> dict[str, Any]:
        """Number and freeze the period's invoice; refused while one is finalized (void it first)."""
        c = self.customers.get(customer_id)
        period = month_period(period_key, c.timezone)
        if not early and self.clock() < period.end:
            raise Conflict(f"period {period_key} of {customer_id} ends {period.end.isoformat()}; "
                           "finalize it after that (or pass early)")
        g = self.drafter.gather({c.id: period}, [c], [c.id])[0]
        existing = g.history.regular.get(period.key)
        if existing:
            raise Conflict(f"{customer_id} {period_key} is already finalized as {existing}; void it first")
        return self.invoices.finalize(self.drafter.regular(g, self.clock()), c.issuer, self.clock(), c.name)

    def void(self, number: str, reason: str = "") -> dict[str, Any]:
        return self.invoices.void(number, reason, self.clock())

    def credit_note(self, number: str, amount: Decimal | str | int, reason: str) -> dict[str, Any]:
        if not reason.strip():
            raise InvalidInput("a credit note needs a reason")
        return self.invoices.credit_note(number, to_decimal(amount, field="amount"), reason, self.clock())

    def show(self, number: str) -> dict[str, Any]:
        return self.invoices.document(number)

    def show_extras(self, number: str) -> dict[str, Any]:
        """What rendering adds to the document: versions used, credit notes, void reason."""
        head = self.invoices.header(number)
        name = self.invoices.document(number).get("customer_name") or self.customers.get(head["customer"]).name
        return {"kind": head["kind"], "customer_name": name, "catalog_versions": head["catalog_versions"],
                "plan_versions": head["plan_versions"], "credit_notes": self.invoices.credit_notes(number),
                "void_reason": head["void_reason"], "finalized_at": head["finalized_at"].isoformat()}

    def statement(self, customer_id: str, period_key: str) -> dict[str, Any]:
        """Usage per model and bucket with each invoice line's breakdown (see billing.statement)."""
        c = self.customers.get(customer_id)
        period = month_period(period_key, c.timezone)
        g = self.drafter.gather({c.id: period}, [c], [c.id])[0]
        draft = self.drafter.regular(g, self.clock())
        number = g.history.regular.get(period.key)
        finalized = self.invoices.document(number) if number else None
        details = self.invoices.details(number) if number else None
        return build_statement(g.parts, draft, finalized, details)

    def list_invoices(self, customer_id: str | None = None, period_key: str | None = None) -> list[dict[str, Any]]:
        return self.invoices.all(customer_id, period_key)

    def run(self, period_key: str, finalize: bool = False) -> list[dict[str, Any]]:
        """Draft (and optionally finalize) every subscribed customer's invoice in one pass.

        A customer whose period is already finalized is listed with that invoice.
        """
        customers = self.customers.all()
        periods = {c.id: month_period(period_key, c.timezone) for c in customers}
        out = []
        for g in self.drafter.gather(periods, customers, None, detail=False):
            if not g.parts and not g.prior:
                continue
            number = g.history.regular.get(period_key)
            if number:  # already invoiced: show that invoice, not a draft beside it
                out.append(self.invoices.document(number))
                continue
            draft = self.drafter.regular(g, self.clock())
            out.append(self.invoices.finalize(draft, g.customer.issuer, self.clock(), g.customer.name) if finalize else draft.to_json())
        return out

    def check_thresholds(self) -> list[dict[str, Any]]:
        """Issue interim invoices where unbilled usage this period reached the plan's threshold."""
        now = self.clock()
        customers = self.customers.all()
        periods = {c.id: period_at(now, c.timezone) for c in customers}
        issued = []
        for g in self.drafter.gather(periods, customers, None, with_prior=False, detail=False):
            draft = self.drafter.interim(g, now)
            if draft is not None:
                issued.append(self.invoices.finalize(draft, g.customer.issuer, now, g.customer.name))
        return issued
