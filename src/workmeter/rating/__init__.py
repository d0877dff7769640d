"""Rating: two raters, one truth.

* :func:`~workmeter.rating.reference.rate` — the pure reference rater: one event
  (provider, model, :class:`~workmeter.normalize.buckets.Buckets`, time, service
  tier) against an in-memory catalog → :class:`~workmeter.rating.reference.RatedEvent`
  (lines per bucket with quantity, unit price per million and exact amount, and
  the total) or ``unpriced`` with a reason. No I/O.
* ``rated_events`` — the set-based rater, a DuckDB view over ``live_events``
  (usage events only) created by :class:`~workmeter.rating.service.Rater`
  (``Workmeter.rater``): every ``live_events`` column plus ``cost_<bucket>``,
  ``cost`` (DECIMAL(38, 18), NULL when unpriced), ``priced``, ``unpriced_reason``,
  ``catalog_version``, ``catalog_provider``, ``catalog_model``, ``rating_run``.
  ``rated_events_for_run(run_id)`` is the same under an older run.
* :func:`~workmeter.rating.aggregate.rated_sums` — the same rating for big
  reports: events summed per group and price row, then the sums priced (exact,
  no per-event cost); :func:`~workmeter.rating.aggregate.cost_by` for few groups.
* Rating runs pin catalog versions to time ranges; ``Rater.rerate`` records one.
* :class:`~workmeter.rating.quote.Quoter` — quotes for usage objects and ndjson files.
"""

from __future__ import annotations

from workmeter.rating.reference import RatedEvent, RatedLine, rate, rate_segments

__all__ = ["RatedEvent", "RatedLine", "rate", "rate_segments"]
