"""Property: rollups conserve money. Σ top-level task costs + unattributed cost = total rated cost."""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmeter.app import Workmeter
from workunit_events import HAIKU, SONNET, at, call, load, task, template_db

TASKS = [f"t{i}" for i in range(6)]
tasks_st = st.lists(
    st.tuples(st.sampled_from(TASKS), st.one_of(st.none(), st.sampled_from([*TASKS, "ghost"])),
              st.sampled_from(["a", "b"]), st.sampled_from(["started", "completed", "failed", "abandoned"])),
    max_size=8, unique_by=lambda t: t[0])
calls_st = st.lists(
    st.tuples(st.one_of(st.none(), st.sampled_from(TASKS)), st.sampled_from([SONNET, HAIKU, "mystery-model"]),
              st.integers(0, 50_000), st.integers(0, 5_000), st.sampled_from(["acme", "beta"])),
    min_size=1, max_size=12)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tasks=tasks_st, calls=calls_st)
def test_task_costs_plus_unattributed_equal_total(tasks: list, calls: list) -> None:
    events = []
    for tid, parent, workflow, last in tasks:
        events.append(task("started", tid, at(1), workflow=workflow,
                           **({"parent_task_id": parent} if parent else {})))
        if last != "started":
            events.append(task(last, tid, at(2)))
    events += [call(tid, at(1, 1, i), model=model, input=inp, output=out, customer=cust)
               for i, (tid, model, inp, out, cust) in enumerate(calls)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.duckdb"
        shutil.copyfile(template_db(), path)
        with Workmeter.open(path) as wm:
            load(wm, events)
            totals = wm.work.totals(as_of=at(5))
            con = wm.db.read()
            direct = con.execute("SELECT coalesce(sum(cost), 0) FROM rated_events").fetchone()[0]
            con.close()
            top = wm.work.work("workflow", as_of=at(5))
            every = wm.work.work("workflow", scope="all", as_of=at(5))
            per_task = wm.work.tasks(as_of=at(5))
    assert totals["total_cost"] == direct
    assert totals["task_cost"] + totals["unattributed_cost"] == totals["total_cost"]
    assert sum((r["cost"] for r in top), Decimal(0)) == totals["task_cost"]
    assert sum((r["cost"] for r in every), Decimal(0)) == totals["task_cost"]
    assert sum((t["cost"] for t in per_task), Decimal(0)) == totals["task_cost"]
    assert sum(r["tasks_started"] for r in every) == len(per_task)
