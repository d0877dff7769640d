"""Subscriptions over HTTP: migrating to a new plan version and ending service, admin only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api_support import ACME, GLOBEX, PLAN, ThreadServer, served_world
from test_api_reports import cli_json
from test_invoice_scenarios import make_template


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, dict[str, str], Path]]:
    with served_world(tmp_path_factory.mktemp("api-subscriptions"), make_template(tmp_path_factory), ()) as (server, keys, db):
        yield server, keys, db


def test_migrate_moves_customers_to_the_new_version(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, db = world
    v2 = PLAN.replace('amount = "99.00"', 'amount = "109.00"')
    with server.client(keys["admin"]) as c:
        applied = c.post("/api/v1/plans", content=v2, headers={"content-type": "text/plain"}, params={"name": "pro"})
        assert applied.json()[0]["version"] == 2
        moved = c.post("/api/v1/subscriptions/migrate", json={"plan": "pro", "customer": ACME, "at": "2026-12-01"})
        nothing = c.post("/api/v1/subscriptions/migrate", json={"plan": "pro", "customer": ACME, "at": "2026-12-01"})
        unknown = c.post("/api/v1/subscriptions/migrate", json={"plan": "pro", "to_version": 9})
    assert moved.status_code == 200, moved.text
    assert moved.json() == [{"customer": ACME, "plan": "pro", "from_version": 1, "to_version": 2,
                             "effective": "2026-12-01"}]
    assert nothing.json() == [] and unknown.status_code == 404
    spans = cli_json(db, "subscriptions", "list", "--customer", ACME)
    assert [(s["version"], s["start"], s["end"]) for s in spans] == [(1, "2026-09-01", "2026-12-01"),
                                                                     (2, "2026-12-01", None)]


def test_end_stops_service_from_a_date(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, db = world
    with server.client(keys["admin"]) as c:
        ended = c.post("/api/v1/subscriptions/end", json={"customer": GLOBEX, "end": "2027-01-01"})
        missing = c.post("/api/v1/subscriptions/end", json={"customer": "nobody", "end": "2027-01-01"})
        bad = c.post("/api/v1/subscriptions/end", json={"customer": GLOBEX, "end": "January"})
    assert ended.status_code == 200, ended.text
    assert ended.json() == cli_json(db, "subscriptions", "list", "--customer", GLOBEX)
    assert ended.json()[-1]["end"] == "2027-01-01"
    assert missing.status_code == 404 and bad.status_code == 400


def test_only_admin_changes_subscriptions(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, _ = world
    with server.client(keys["read"]) as c:
        migrate = c.post("/api/v1/subscriptions/migrate", json={"plan": "pro"})
        end = c.post("/api/v1/subscriptions/end", json={"customer": ACME, "end": "2027-01-01"})
    assert (migrate.status_code, end.status_code) == (403, 403)
