"""Composition root: build services from settings, pick the store once.

``Workmeter.open(path)`` is the one place that knows the concrete database.
Services are created lazily so a command only pays for what it uses.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from workmeter.store.duckdb import Database


class Workmeter:
    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, path: str | Path, **db_options: Any) -> Workmeter:
        return cls(Database(path, **db_options))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Workmeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @cached_property
    def ledger(self) -> Any:
        from workmeter.ledger.ingest import Ledger

        return Ledger(self.db)

    @cached_property
    def catalog(self) -> Any:
        from workmeter.catalog.service import CatalogService

        return CatalogService(self.db)

    @cached_property
    def rater(self) -> Any:
        from workmeter.rating.service import Rater

        return Rater(self.db, self.catalog)

    @cached_property
    def meters(self) -> Any:
        from workmeter.meters.service import MeterService

        return MeterService(self.db, rated_view=self._rated_view)

    @cached_property
    def billing(self) -> Any:
        from workmeter.billing.service import BillingService

        return BillingService(self.db, self.meters, rated_view=self._rated_view)

    def usage(self, by: str | list[str] | None = None, start: Any = None, end: Any = None,
              subjects: list[str] | None = None) -> list[dict[str, Any]]:
        """The usage report with exact cost: rates any new model key first, then groups."""
        from workmeter.rating.report import rated_usage_report

        self.rater.refresh()
        return rated_usage_report(self.db, by, start, end, subjects)

    def _rated_view(self) -> str:
        """The rated-events view, with any new model key rated first."""
        self.rater.refresh()
        return "rated_events"

    @cached_property
    def keys(self) -> Any:
        from workmeter.control.keys import KeyStore

        return KeyStore(self.db)

    @cached_property
    def work(self) -> Any:
        from workmeter.workunits.service import WorkService

        return WorkService(self.db, prepare=lambda: self.rater.refresh(), billing=lambda: self.billing)
