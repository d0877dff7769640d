"""The work-unit commands end to end: waste, trends, roi, outcomes, tasks — JSON on stdout, exact decimals."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from workmeter.app import Workmeter
from workmeter.core.errors import InvalidInput
from workmeter.interfaces.cli.main import app as cli
from workunit_events import at, call, load, outcome, task, template_db


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.duckdb"
    shutil.copyfile(template_db(), path)
    events = [
        task("started", "ok", at(1, 1), workflow="triage"), call("ok", at(1, 1, 1), input=1000, output=100),
        task("completed", "ok", at(1, 2)), outcome("ok", at(1, 2), confirmed=True, value="5"),
        task("started", "bad", at(1, 3), workflow="triage"), call("bad", at(1, 3, 1), input=10_000),
        task("failed", "bad", at(1, 4)),
        task("started", "nov", at(2, month=11), workflow="triage"),
        *[call("nov", at(2, 1, i, month=11), input=10_000) for i in range(3)], task("completed", "nov", at(3, month=11)),
    ]
    with Workmeter.open(path) as wm:
        load(wm, events)
    return path


def run(db: Path, *args: str) -> object:
    res = CliRunner().invoke(cli, ["--db", str(db), *args, "--as-of", "2026-12-01T00:00:00Z", "--json"])
    assert res.exit_code == 0, res.output
    return orjson.loads(res.stdout)


def test_waste_by_workflow(db: Path) -> None:
    found = run(db, "waste", "--by", "workflow")
    assert found[0]["kind"] == "failed_or_abandoned" and found[0]["workflow"] == "triage"
    assert (found[0]["estimated_saving"], found[0]["examples"]) == ("0.03", ["bad"])


def test_trends_by_workflow(db: Path) -> None:
    rows = {r["period"]: r for r in run(db, "trends", "--by", "workflow")}
    # October: 1100 + 10000 tokens, 1 completed; November: 30000 tokens, 1 completed → vanity
    assert (rows["2026-11"]["tokens"], rows["2026-11"]["tasks_completed"]) == (30000, 1)
    assert rows["2026-11"]["vanity"] is True and rows["2026-10"]["vanity"] is False
    assert rows["2026-11"]["tokens_growth"] == "1.702703"          # 30000 / 11100 − 1


def test_roi_and_work_by_month(db: Path) -> None:
    roi = run(db, "roi", "--by", "workflow", "--outcome-price", "0.99")[0]
    assert (roi["value"], roi["cost"], roi["roi"], roi["revenue"]) == ("5", "0.1245", "40.160643", "0.99")
    months = {r["month"]: r["tasks_started"] for r in run(db, "work", "--by", "workflow,month")}
    assert months == {"2026-10": 2, "2026-11": 1}


def test_outcomes_and_tasks(db: Path) -> None:
    lines = run(db, "outcomes")
    assert [(x["task_id"], x["kind"], x["value"]) for x in lines] == [("ok", "bill", "5")]
    tasks = run(db, "tasks", "--status", "failed")
    assert [(t["task_id"], t["cost"]) for t in tasks] == [("bad", "0.03")]


def test_bad_group_key_is_refused_with_the_choices(db: Path) -> None:
    res = CliRunner().invoke(cli, ["--db", str(db), "work", "--by", "planet"])
    assert isinstance(res.exception, InvalidInput)
    assert res.exception.message.startswith("unknown group key 'planet'; choose from customer, workflow")
