"""``per_outcome``: ``unit_price`` per billable outcome of a work unit, credited back when reopened.

::

    [[charge]]
    key = "resolutions"
    type = "per_outcome"
    outcome = "resolved"          # the task.outcome value billed
    unit_price = "0.99"
    mode = "assumed"              # or "confirmed" (default): only confirmed/verified outcomes bill
    assume_after_hours = 72       # assumed mode: unconfirmed outcomes bill after 72 quiet hours

Counting rules (once per task, assumed after inactivity, reopen claws back)
are those of :mod:`workmeter.workunits.outcomes`. The usage line bills the
outcomes that became billable in the period and were not reopened within
it. Outcomes billed in an earlier period and reopened in this one produce a
credit line (kind ``adjustment``, at this plan's unit price), however many
periods back the bill was.
"""

from __future__ import annotations

from decimal import Decimal

from workmeter.billing.amounts import ZERO, exact, mul
from workmeter.billing.charges import register_charge
from workmeter.billing.charges.base import Charge, ChargeContext, Line, Spec
from workmeter.billing.collect import register_source
from workmeter.core.money import fmt
from workmeter.workunits.outcome_billing import SOURCE_NAME, outcome_counts, source_key
from workmeter.workunits.settings import OutcomeRule

register_source(SOURCE_NAME, outcome_counts)


@register_charge
class PerOutcome(Charge):
    type = "per_outcome"
    fields = frozenset({"outcome", "unit_price", "mode", "assume_after_hours"})

    def __init__(self, key: str, name: str, spec: Spec) -> None:
        super().__init__(key, name, spec)
        self.outcome = spec.text("outcome")
        self.unit_price = spec.decimal("unit_price")
        mode = spec.choice("mode", ("confirmed", "assumed"), "confirmed")
        hours = spec.decimal("assume_after_hours", Decimal(72), positive=True)
        self.rule = OutcomeRule(mode=mode, assume_after_hours=hours)  # type: ignore[arg-type]
        self.bill_key = f"{SOURCE_NAME}:{source_key('bill', self.outcome, self.rule)}"
        self.claw_key = f"{SOURCE_NAME}:{source_key('clawback', self.outcome, self.rule)}"

    def sources(self) -> set[str]:
        return {self.bill_key, self.claw_key}

    def lines(self, ctx: ChargeContext) -> list[Line]:
        billed = ctx.usage.sources.get(self.bill_key, ZERO)
        reopened = ctx.usage.sources.get(self.claw_key, ZERO)
        description = f"{self.name} ({fmt(billed)} × {self.outcome}){ctx.suffix()}"
        out = [self.line(description, billed, self.unit_price, mul(billed, self.unit_price))]
        if reopened:
            credit = exact(-mul(reopened, self.unit_price))
            out.append(Line(self.key, f"{self.name}: {fmt(reopened)} {self.outcome} reopened after an earlier "
                                      f"invoice (credit){ctx.suffix()}", exact(reopened), -self.unit_price,
                            credit, "adjustment"))
        return out
