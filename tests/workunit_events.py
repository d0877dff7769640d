"""Builders for task and usage CloudEvents used by the work-unit tests.

Prices used in hand-computed expectations (list prices per million tokens):
claude-sonnet-4-5 input $3, cache read $0.30, output $15;
claude-haiku-4-5 input $1, cache read $0.10, output $5.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from workmeter.app import Workmeter

SONNET = "claude-sonnet-4-5"
HAIKU = "claude-haiku-4-5"
PRICE = {  # USD per token
    SONNET: {"input": Decimal(3) / 10**6, "cache_read": Decimal("0.3") / 10**6, "output": Decimal(15) / 10**6},
    HAIKU: {"input": Decimal(1) / 10**6, "cache_read": Decimal("0.1") / 10**6, "output": Decimal(5) / 10**6},
}
_ids = itertools.count(1)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 10) -> str:
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def task(kind: str, task_id: str, time: str, *, customer: str = "acme", **data: Any) -> dict[str, Any]:
    """A ``task.<kind>`` event (started, completed, failed, abandoned, outcome)."""
    return {"specversion": "1.0", "id": f"t{next(_ids)}", "source": "tests", "type": f"task.{kind}",
            "subject": customer, "time": time, "data": {"task_id": task_id, **data}}


def outcome(task_id: str, time: str, name: str = "resolved", *, confirmed: bool = False,
            customer: str = "acme", **data: Any) -> dict[str, Any]:
    return task("outcome", task_id, time, customer=customer, outcome=name, confirmed=confirmed, **data)


def call(task_id: str | None, time: str, *, model: str = SONNET, customer: str = "acme", input: int = 0,
         output: int = 0, cache_read: int = 0, prompt_hash: str | None = None,
         workflow: str | None = None) -> dict[str, Any]:
    """An ``llm.usage`` event with exclusive buckets given directly."""
    data: dict[str, Any] = {"provider": "anthropic", "model": model, "usage_format": "buckets",
                            "usage": {"input": input, "output": output, "cache_read": cache_read}}
    if task_id is not None:
        data["task_id"] = task_id
    if prompt_hash is not None:
        data["prompt_hash"] = prompt_hash
    if workflow is not None:
        data["attributes"] = {"workflow": workflow}
    return {"specversion": "1.0", "id": f"u{next(_ids)}", "source": "tests", "type": "llm.usage",
            "subject": customer, "time": time, "data": data}


def cost(model: str = SONNET, *, input: int = 0, output: int = 0, cache_read: int = 0) -> Decimal:
    p = PRICE[model]
    return input * p["input"] + output * p["output"] + cache_read * p["cache_read"]


def load(wm: Any, events: list[dict[str, Any]]) -> None:
    """Ingest through the real ledger (every event must be accepted) and rate new model keys."""
    report = wm.ledger.ingest(events, with_results=True)
    assert report.accepted == len(events), [r.as_dict() for r in report.results if r.status != "accepted"]
    wm.rater.refresh()


_TEMPLATE: list[Path] = []


def template_db() -> Path:
    """A database whose catalog is synced and rater built, made once per test session."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="wm-work-template-"))
        atexit.register(shutil.rmtree, folder, True)
        with Workmeter.open(folder / "template.duckdb") as app:
            assert app.rater.current_run() is not None
        _TEMPLATE.append(folder / "template.duckdb")
    return _TEMPLATE[0]


@pytest.fixture(name="wm")
def rated_wm(tmp_path: Path) -> Iterator[Workmeter]:
    """A fresh database with list prices ready (a copy of the template: no catalog sync per test)."""
    path = tmp_path / "work.duckdb"
    shutil.copyfile(template_db(), path)
    app = Workmeter.open(path)
    try:
        yield app
    finally:
        app.close()
