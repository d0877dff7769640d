"""Work-unit reports as an enterprise user reads them: exact, noise-free numbers in --json."""

from __future__ import annotations

from workmeter.app import Workmeter
from workunit_events import load, task


def test_task_duration_has_no_float_noise(wm: Workmeter) -> None:
    load(wm, [task("started", "t1", "2026-10-01T10:00:00.123Z", workflow="triage"),
              task("completed", "t1", "2026-10-01T10:03:31.955Z")])
    [row] = wm.work.tasks(as_of="2026-10-02T00:00:00Z")
    assert row["duration_s"] == 211.832 and repr(row["duration_s"]) == "211.832"
