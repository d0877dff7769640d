"""Billing tables. Append-only where history matters.

* ``billing_subscriptions`` is a timeline: each row says "from this local date
  on, the customer is on this plan version" (a NULL plan ends service). A plan
  change or migration is a new row, never an UPDATE.
* Finalized invoices and their lines are written once and never changed; a
  void is a row in ``billing_invoice_voids``; a credit note is its own document.
* Credits: grants, and burns written when an invoice is finalized (a voided
  invoice's burns no longer count).
"""

from __future__ import annotations

from workmeter.store.duckdb import register_ddl

MONEY = "DECIMAL(38, 18)"

BILLING_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS billing_customers (
    "id" VARCHAR PRIMARY KEY, "name" VARCHAR, "currency" VARCHAR, "timezone" VARCHAR,
    "issuer" VARCHAR, "created_at" TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS billing_plans (
    "key" VARCHAR, "version" INTEGER, "content_hash" VARCHAR, "currency" VARCHAR, "source" VARCHAR,
    "document" JSON, "applied_at" TIMESTAMPTZ, PRIMARY KEY ("key", "version"))""",
    """CREATE TABLE IF NOT EXISTS billing_subscriptions (
    "seq" BIGINT, "customer" VARCHAR, "plan_key" VARCHAR, "plan_version" INTEGER,
    "start_date" DATE, "created_at" TIMESTAMPTZ, "note" VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS billing_credit_grants (
    "id" VARCHAR PRIMARY KEY, "customer" VARCHAR, "amount" {MONEY}, "currency" VARCHAR,
    "priority" INTEGER, "effective_at" TIMESTAMPTZ, "expires_at" TIMESTAMPTZ, "reason" VARCHAR,
    "created_at" TIMESTAMPTZ)""",
    f"""CREATE TABLE IF NOT EXISTS billing_credit_burns (
    "invoice" VARCHAR, "grant_id" VARCHAR, "amount" {MONEY})""",
    f"""CREATE TABLE IF NOT EXISTS billing_invoices (
    "number" VARCHAR PRIMARY KEY, "issuer" VARCHAR, "seq" BIGINT, "kind" VARCHAR, "customer" VARCHAR,
    "period" VARCHAR, "period_start" TIMESTAMPTZ, "period_end" TIMESTAMPTZ, "currency" VARCHAR,
    "subtotal" {MONEY}, "credits_applied" {MONEY}, "total" {MONEY}, "catalog_versions" JSON,
    "plan_versions" JSON, "warnings" JSON, "finalized_at" TIMESTAMPTZ, "document" JSON)""",
    f"""CREATE TABLE IF NOT EXISTS billing_invoice_lines (
    "invoice" VARCHAR, "position" INTEGER, "charge" VARCHAR, "description" VARCHAR,
    "quantity" {MONEY}, "unit_price" {MONEY}, "amount_exact" {MONEY}, "amount" {MONEY},
    "kind" VARCHAR, "adjusts" VARCHAR, "details" JSON)""",
    """CREATE TABLE IF NOT EXISTS billing_invoice_voids (
    "invoice" VARCHAR PRIMARY KEY, "reason" VARCHAR, "voided_at" TIMESTAMPTZ)""",
    f"""CREATE TABLE IF NOT EXISTS billing_credit_notes (
    "number" VARCHAR PRIMARY KEY, "invoice" VARCHAR, "customer" VARCHAR, "currency" VARCHAR,
    "amount" {MONEY}, "reason" VARCHAR, "created_at" TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS billing_sequences ("issuer" VARCHAR PRIMARY KEY, "last" BIGINT)""",
)

register_ddl(*BILLING_DDL)
