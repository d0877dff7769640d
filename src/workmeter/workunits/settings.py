"""Work-unit rules in one place: task lifecycle, outcome semantics, waste thresholds.

Task lifecycle
    A task is ``started`` by its first event and ends with its *last* terminal
    event (``task.completed`` / ``task.failed`` / ``task.abandoned``; ties on time
    go to the later ingested event). A task with no terminal event whose last
    activity (any task event or usage call of that task) is older than
    ``abandon_after_hours`` before the report's ``as_of`` instant counts as
    ``abandoned`` with ``abandoned_inferred = true``; otherwise it is ``running``.
    Usage that names a task which never sent a task event still forms a task
    (no workflow unless the usage carries one).

Outcome semantics (per outcome type, :class:`OutcomeRule`)
    * ``confirmed`` mode: an outcome is billable at the time of a ``task.outcome``
      event with ``"confirmed": true`` (or ``"verified": true``).
    * ``assumed`` mode: a confirmed outcome is billable at once; an unconfirmed one
      becomes billable once the task has been quiet for ``assume_after_hours``
      (no task event and no usage call), at *that* instant, unless a
      ``"reopened"`` outcome arrived first (then it never bills).
    * An outcome is counted at most once per task and outcome type: while it is
      billed, further outcomes of the type are not billed again.
    * A ``"reopened"`` outcome after billing claws the outcome back at the
      reopen's time (a credit in the period holding the reopen, whatever period
      billed it). After a clawback the task may bill that outcome again.
    Unknown outcome types follow ``default_outcome_rule``. A customer's plan that bills
    the outcome type (``per_outcome`` charge) sets the rule for that customer's outcomes
    first (:mod:`workmeter.workunits.plan_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from workmeter.core.errors import InvalidInput

OutcomeMode = Literal["confirmed", "assumed"]
#: The outcome string that claws back (reserved; never billable itself).
REOPENED = "reopened"
TERMINAL_TYPES: dict[str, str] = {
    "task.completed": "completed",
    "task.failed": "failed",
    "task.abandoned": "abandoned",
}
TASK_TYPES: tuple[str, ...] = ("task.started", *TERMINAL_TYPES, "task.outcome")
STATUSES: tuple[str, ...] = ("completed", "failed", "abandoned", "running")


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """How one outcome type becomes billable (see the module docstring)."""

    mode: OutcomeMode = "confirmed"
    assume_after_hours: Decimal = Decimal(72)

    def __post_init__(self) -> None:
        if self.mode not in ("confirmed", "assumed"):
            raise InvalidInput(f"outcome mode must be 'confirmed' or 'assumed', got {self.mode!r}")
        if not isinstance(self.assume_after_hours, Decimal):
            object.__setattr__(self, "assume_after_hours", Decimal(str(self.assume_after_hours)))
        if self.assume_after_hours <= 0:
            raise InvalidInput("assume_after_hours must be positive")

    @property
    def assume_after_seconds(self) -> int:
        return int(self.assume_after_hours * 3600)


@dataclass(frozen=True, slots=True)
class WasteSettings:
    """Thresholds of the waste finders (documented in :mod:`workmeter.workunits.waste`)."""

    retry_min_repeats: int = 2          # repeats of one prompt within a task that make a storm
    cache_min_input: int = 1024         # uncached input tokens that a repeat must carry
    runaway_factor: Decimal = Decimal(3)  # k in "cost > k × workflow p95"
    runaway_min_tasks: int = 20         # tasks a workflow needs before its p95 means anything
    model_min_completed: int = 5        # completed tasks a cheaper model must have
    model_success_tolerance: Decimal = Decimal("0.05")  # how much lower its success rate may be
    examples: int = 5                   # example task ids per finding


@dataclass(frozen=True, slots=True)
class WorkSettings:
    abandon_after_hours: Decimal = Decimal(24)
    currency: str = "USD"
    default_outcome_rule: OutcomeRule = OutcomeRule()
    outcome_rules: dict[str, OutcomeRule] = field(default_factory=dict)
    waste: WasteSettings = WasteSettings()
    trend_tolerance: Decimal = Decimal("0.05")  # growth below this is "not growing"

    def rule(self, outcome: str) -> OutcomeRule:
        return self.outcome_rules.get(outcome, self.default_outcome_rule)

    def with_rule(self, outcome: str, rule: OutcomeRule) -> WorkSettings:
        return replace(self, outcome_rules={**self.outcome_rules, outcome: rule})

    @property
    def abandon_after_seconds(self) -> int:
        return int(self.abandon_after_hours * 3600)
