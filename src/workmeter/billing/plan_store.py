"""Versioned plans: applying a changed plan creates a new version, the same content is a no-op.

A version is identified by ``(key, version)``; its document is stored whole
and its content hash compared on apply (formatting and comments do not make
a new version). Applying several files is all-or-nothing: every file is
validated before anything is written. Plan meters are published to the meter
registry so ``meters query`` sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from workmeter.billing.plan_files import load_plan_file
from workmeter.billing.plans import PlanDef, parse_plan
from workmeter.core.errors import InvalidPlan, NotFound
from workmeter.meters.service import MeterService
from workmeter.store.duckdb import Database


@dataclass(frozen=True, slots=True)
class ApplyResult:
    key: str
    version: int
    status: str  # "created" | "unchanged"
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"plan": self.key, "version": self.version, "status": self.status, "file": self.source}


class Plans:
    def __init__(self, db: Database, meters: MeterService) -> None:
        self.db = db
        self.meters = meters
        self._cache: dict[tuple[str, int], PlanDef] = {}

    def apply_files(self, paths: Sequence[str | Path], now: datetime) -> list[ApplyResult]:
        plans = [(str(p), load_plan_file(p)) for p in paths]
        keys = [plan.key for _, plan in plans]
        dup = next((k for k in keys if keys.count(k) > 1), None)
        if dup:
            raise InvalidPlan(f"plan {dup!r} is defined by more than one of the files given")
        return [self.apply(plan, source, now) for source, plan in plans]

    def apply(self, plan: PlanDef, source: str, now: datetime) -> ApplyResult:
        with self.db.write() as con:
            row = con.execute("SELECT version, content_hash FROM billing_plans WHERE key = ? "
                              "ORDER BY version DESC LIMIT 1", [plan.key]).fetchone()
            if row is not None and row[1] == plan.content_hash:
                return ApplyResult(plan.key, row[0], "unchanged", source)
            version = 1 if row is None else row[0] + 1
            con.execute("INSERT INTO billing_plans VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [plan.key, version, plan.content_hash, plan.currency, source,
                         orjson.dumps(plan.document).decode(), now])
        for meter in plan.meters:
            self.meters.save(meter, origin=f"plan {plan.key} v{version}")
        return ApplyResult(plan.key, version, "created", source)

    def latest_version(self, key: str) -> int:
        row = self.db.read().execute("SELECT max(version) FROM billing_plans WHERE key = ?", [key]).fetchone()
        if row is None or row[0] is None:
            raise NotFound(f"no plan {key!r} (apply it with: workmeter plans apply FILE)")
        return int(row[0])

    def get(self, key: str, version: int | None = None) -> PlanDef:
        version = version or self.latest_version(key)
        cached = self._cache.get((key, version))
        if cached is not None:
            return cached
        row = self.db.read().execute("SELECT document FROM billing_plans WHERE key = ? AND version = ?",
                                     [key, version]).fetchone()
        if row is None:
            raise NotFound(f"plan {key!r} has no version {version}")
        plan, errors = parse_plan(orjson.loads(row[0]))
        if plan is None:  # stored plans were valid when applied; a removed charge type lands here
            raise InvalidPlan(f"stored plan {key} v{version} no longer validates: "
                              + "; ".join(e.text() for e in errors))
        self._cache[(key, version)] = plan
        return plan

    def all(self) -> list[dict[str, Any]]:
        rows = self.db.read().execute(
            "SELECT key, version, currency, source, applied_at, content_hash FROM billing_plans "
            "ORDER BY key, version").fetchall()
        return [{"plan": r[0], "version": r[1], "currency": r[2], "file": r[3], "applied_at": r[4].isoformat(),
                 "hash": r[5][:12]} for r in rows]
