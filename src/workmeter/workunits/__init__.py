"""Work units: task lifecycle, outcomes, per-task rollups, waste, ROI and the pricing simulator.

Tokens consumed are a vanity number; what matters is the work done and what
it cost. Tasks arrive as ``task.*`` events (``task.started``, ``task.completed``,
``task.failed``, ``task.abandoned``, ``task.outcome``); usage links to a task by
``task_id``. Everything here is derived at query time, set-based, from
``live_events`` and ``rated_events``:

* :class:`WorkService` (``Workmeter.work``) — ``tasks()``, ``work()`` (rollups),
  ``roi()``, ``waste()``, ``trends()``, ``totals()``, ``outcome_timeline()``,
  and for billing ``billable_outcomes()`` / ``clawbacks()``;
* :class:`WorkSettings` / :class:`OutcomeRule` — the lifecycle and outcome rules;
* :mod:`workmeter.workunits.ratios` — the one place ratio precision is fixed.
"""

from __future__ import annotations

from workmeter.workunits.outcomes import OutcomeLine
from workmeter.workunits.ratios import RATIO_PLACES, ratio
from workmeter.workunits.service import TASK_FIELDS, WorkService
from workmeter.workunits.settings import OutcomeRule, WasteSettings, WorkSettings

__all__ = [
    "RATIO_PLACES",
    "TASK_FIELDS",
    "OutcomeLine",
    "OutcomeRule",
    "WasteSettings",
    "WorkService",
    "WorkSettings",
    "ratio",
]
