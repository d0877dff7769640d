"""Builders for task and usage CloudEvents used by the work-unit tests.

Prices used in hand-computed expectations (list prices per million tokens):
claude-sonnet-4-5 input $3, cache read $0.30, output $15;
claude-haiku-4-5 input $1, cache read $0.10, output $5.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

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
    """Ingest through the real ledger (every event must be accepted), then make sure it is rated."""
    report = wm.ledger.ingest(events, with_results=True)
    assert report.accepted == len(events), [r.as_dict() for r in report.results if r.status != "accepted"]
    ensure_rated(wm)


def ensure_rated(wm: Any) -> None:
    """The rated view over the ledger at list prices."""
    con = wm.db.read()
    try:
        exists = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'rated_events'").fetchone()
    finally:
        con.close()
    if exists and exists[0]:
        return
    cases = {b: " ".join(f"WHEN '{m}' THEN {p[b]}" for m, p in PRICE.items()) for b in ("input", "cache_read", "output")}
    with wm.db.write() as con:
        con.execute(f"""CREATE VIEW rated_events AS SELECT e.*, c.cost_input, c.cost_cache_read, c.cost_output,
            CASE WHEN e.model IN ({", ".join(f"'{m}'" for m in PRICE)})
                 THEN c.cost_input + c.cost_cache_read + c.cost_output END AS cost,
            e.model IN ({", ".join(f"'{m}'" for m in PRICE)}) AS priced, e.model AS catalog_model
            FROM live_events e, LATERAL (SELECT
              CAST(e.input * CASE e.model {cases["input"]} END AS DECIMAL(38, 18)) AS cost_input,
              CAST(e.cache_read * CASE e.model {cases["cache_read"]} END AS DECIMAL(38, 18)) AS cost_cache_read,
              CAST(e.output * CASE e.model {cases["output"]} END AS DECIMAL(38, 18)) AS cost_output) c
            WHERE e.type = 'llm.usage'""")
