"""The outcome rules customers' plans define: which rule judges which customer's outcomes, when.

A plan's ``per_outcome`` charge names an outcome type and its rule (``mode``,
``assume_after_hours``). The outcome reports (the outcome timeline, a task's
``outcomes_billed``, the work rollups, billable outcomes and clawbacks) judge
an outcome of a customer by the rule of the customer's plan *in effect at the
outcome event's time* — the subscription span holding that instant, its days
taken in the customer's timezone — so they count what the customer's invoices
bill. Precedence, per outcome type:

1. a rule given explicitly to a report call (e.g. ``billable_outcomes(rule=…)``);
2. the rule of the customer's plan at the outcome's time (the first
   ``per_outcome`` charge for that type in the plan);
3. the configured rule for the type (``WorkSettings.outcome_rules``);
4. ``WorkSettings.default_outcome_rule``.

A customer without a subscription, or whose plan bills no such outcome, falls
through to 3 and 4.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: One rule row: customer, outcome type, in effect from (inclusive), until (exclusive; None: open), mode,
#: seconds of quiet before an unconfirmed outcome is assumed.
RuleRow = tuple[str, str, datetime, datetime | None, str, int]


def plan_rules(billing: Any) -> list[RuleRow]:
    """Rule rows from every subscription span whose plan has ``per_outcome`` charges."""
    from workmeter.billing.periods import local_midnight

    zones = {c.id: c.timezone for c in billing.customers.all()}
    out: list[RuleRow] = []
    for customer, spans in sorted(billing.subscriptions.spans().items()):
        tz = zones.get(customer, "UTC")
        for span in spans:
            rules = _charge_rules(billing.plans.get(span.plan_key, span.plan_version).charges)
            start = local_midnight(span.start, tz)
            end = local_midnight(span.end, tz) if span.end else None
            out += [(customer, outcome, start, end, mode, after) for outcome, (mode, after) in rules.items()]
    return out


def _charge_rules(charges: Any) -> dict[str, tuple[str, int]]:
    """Outcome type → (mode, seconds) of the first ``per_outcome`` charge for it."""
    rules: dict[str, tuple[str, int]] = {}
    for charge in charges:
        if getattr(charge, "type", None) == "per_outcome" and charge.outcome not in rules:
            rules[charge.outcome] = (charge.rule.mode, charge.rule.assume_after_seconds)
    return rules
