"""Catalog upkeep over HTTP: sync, check and rerate are the CLI's, and only admin changes prices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api_support import ACME, ThreadServer, served_world
from test_api_reports import cli_json
from test_invoice_scenarios import make_template


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, dict[str, str], Path]]:
    with served_world(tmp_path_factory.mktemp("api-catalog"), make_template(tmp_path_factory), (ACME,)) as (server, keys, db):
        yield server, keys, db


def test_sync_and_check_are_the_cli_json(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, db = world
    with server.client(keys["admin"]) as c:
        synced = c.post("/api/v1/prices/sync")
    with server.client(keys["read"]) as c:
        checked = c.get("/api/v1/prices/check")
    assert synced.status_code == 200, synced.text
    assert synced.json() == cli_json(db, "prices", "sync")  # nothing changed: the same version twice
    assert synced.json()["created"] is False
    assert checked.status_code == 200 and checked.json() == cli_json(db, "prices", "check")
    assert any(r["model"] == "unit-unknown" for r in checked.json())  # seen in the ledger without a price


def test_rerate_records_a_run(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, _ = world
    with server.client(keys["admin"]) as c:
        run = c.post("/api/v1/rerate", json={"from": "2026-10", "to": "2026-11", "note": "october again"})
        backwards = c.post("/api/v1/rerate", json={"from": "2026-11", "to": "2026-10"})
        unknown = c.post("/api/v1/rerate", json={"catalog_version": "no-such-version"})
        runs = c.get("/api/v1/prices/runs").json()
    assert run.status_code == 200, run.text
    assert runs[-1] == run.json() and run.json()["note"] == "october again"
    assert run.json()["from"].startswith("2026-10-01") and run.json()["to"].startswith("2026-11-01")
    assert backwards.status_code == 400 and unknown.status_code == 404


def test_only_admin_changes_prices_and_bound_keys_cannot_check(
        world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, _ = world
    with server.client(keys["read"]) as c:
        sync = c.post("/api/v1/prices/sync")
        rerate = c.post("/api/v1/rerate", json={})
    with server.client(keys[ACME]) as c:
        check = c.get("/api/v1/prices/check")
    assert (sync.status_code, rerate.status_code, check.status_code) == (403, 403, 403)
