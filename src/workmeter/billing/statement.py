"""The customer usage statement: the invoice broken down per model and per bucket.

For one customer and period it lists every provider/model used, with calls,
tokens per bucket and the exact rated cost per bucket — ``quantity`` counts
only the priced calls' units, so it is what the cost is the price of, and
the unpriced calls' units are shown apart as ``unpriced_quantity`` — the
unpriced calls (counted, with reasons), a model's per-call fees as a
``request`` row (so a model's cost is the sum of its rows), and each invoice line with its own per-model,
per-bucket details (what a markup or per-token line is made of), so every
cent can be checked. When the period's invoice is finalized, the lines are
the finalized ones; usage is always read live from the ledger (late events
show here and as adjustments on the next invoice), and a ``usage_changed``
warning says so when the usage no longer adds up to the invoice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workmeter.billing.aggregates import ModelUsage, merge_models
from workmeter.billing.amounts import add, exact_str
from workmeter.billing.documents import Draft, line_json
from workmeter.billing.engine import PlanSegment
from workmeter.billing.invoices import plain_details
from workmeter.normalize.buckets import PRICED_BUCKETS


def _copy(m: ModelUsage) -> ModelUsage:
    return ModelUsage(m.provider, m.model, m.catalog_model, m.events, dict(m.buckets), m.reasoning,
                      dict(m.costs), m.cost, m.unpriced_events, dict(m.unpriced_reasons),
                      dict(m.unpriced_buckets), m.unpriced_reasoning)


def bucket_rows(m: ModelUsage) -> list[dict[str, Any]]:
    """Per bucket: units of priced calls with their cost, and units of unpriced calls apart.

    The cost of a model is the sum of its rows' costs: a per-call fee
    (``request``) is a row of its own, one unit per priced call.
    """
    priced = m.priced_events > 0
    rows = [{"bucket": b, "quantity": m.priced_quantity(b), "cost": exact_str(m.costs[b]) if priced else None,
             "unpriced_quantity": m.unpriced_buckets[b]}
            for b in PRICED_BUCKETS if m.buckets[b] or m.costs[b]]
    fees = m.cost - add(*m.costs.values())  # per-request fees have no token bucket
    if priced and fees:
        rows.append({"bucket": "request", "quantity": m.priced_events, "cost": exact_str(fees),
                     "unpriced_quantity": m.unpriced_events})
    return rows


def model_rows(parts: list[PlanSegment]) -> list[dict[str, Any]]:
    models = merge_models(_copy(m) for p in parts for m in p.usage.models)
    out = []
    for m in models:
        priced = m.priced_events > 0  # costs cover the priced calls; None when there are none
        out.append({
            "provider": m.provider, "model": m.model, "catalog_model": m.catalog_model, "events": m.events,
            "unpriced_events": m.unpriced_events, "unpriced_reasons": m.unpriced_reasons,
            "reasoning": m.reasoning - m.unpriced_reasoning, "unpriced_reasoning": m.unpriced_reasoning,
            "buckets": bucket_rows(m),
            "cost": exact_str(m.cost) if priced else None,
        })
    return out


def finalized_warning(period_key: str, number: str) -> dict[str, Any]:
    """The note on a recomputed draft of a period that is already invoiced."""
    return {"code": "finalized", "invoice": number,
            "message": f"{period_key} is invoiced as {number}, which does not change: this is a recomputation "
                       "from the ledger; any difference is billed as adjustment lines on the next invoice"}


def late_usage_warning(number: str, invoiced: str, recomputed: str) -> dict[str, Any]:
    """Usage of the period changed after its invoice was finalized (late events, corrections)."""
    return {"code": "usage_changed", "invoice": number, "invoiced_subtotal": invoiced,
            "recomputed_subtotal": recomputed,
            "message": f"usage changed after {number} was finalized: the usage above recomputes to a subtotal of "
                       f"{recomputed}, the invoice says {invoiced}; the difference is billed as adjustment lines "
                       "on the next invoice"}


def build_statement(parts: list[PlanSegment], draft: Draft, finalized: dict[str, Any] | None,
                    finalized_details: list[list[dict[str, Any]]] | None) -> dict[str, Any]:
    models = model_rows(parts)
    warnings = list(draft.warnings)
    if finalized is not None:
        found = finalized_details or []
        lines = [{**ln, "details": found[i] if i < len(found) else []} for i, ln in enumerate(finalized["lines"])]
        doc = finalized
        recomputed = draft.to_json()["subtotal"]
        if recomputed != finalized["subtotal"]:
            warnings.append(late_usage_warning(finalized["number"], finalized["subtotal"], recomputed))
    else:
        lines = [{**line_json(ln, draft.amount(ln), draft.currency), "details": plain_details(ln.details)}
                 for ln in draft.lines]
        doc = draft.to_json()
    return {
        "customer": draft.customer, "period": draft.period.as_json(), "currency": draft.currency,
        "invoice": doc["number"], "status": doc["status"],
        "models": models,
        "usage_totals": {
            "events": sum(m["events"] for m in models),
            "unpriced_events": sum(m["unpriced_events"] for m in models),
            "cost": exact_str(add(*(Decimal(m["cost"]) for m in models if m["cost"] is not None))),
        },
        "lines": lines,
        "subtotal": doc["subtotal"], "credits_applied": doc["credits_applied"], "total": doc["total"],
        "warnings": warnings,
    }
