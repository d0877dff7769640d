"""Corrections over HTTP: void, amend and history are the ledger's, audited, admin-only to change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api_support import ACME, GLOBEX, ThreadServer, served_world
from test_api_reports import cli_json
from test_invoice_scenarios import make_template


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, dict[str, str], Path]]:
    with served_world(tmp_path_factory.mktemp("api-corrections"), make_template(tmp_path_factory), (ACME,)) as (server, keys, db):
        yield server, keys, db


def _events(c: object, customer: str) -> int:
    rows = c.get("/api/v1/usage", params={"customer": customer}).json()  # type: ignore[attr-defined]
    return int(rows[0]["events"]) if rows else 0


def test_void_stops_counting_and_is_audited(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, db = world
    event = {"source": "world", "id": f"{GLOBEX}-u2"}
    with server.client(keys["admin"]) as c:
        before = _events(c, GLOBEX)
        voided = c.post("/api/v1/events/void", json={**event, "reason": "duplicate call"})
        assert voided.status_code == 200, voided.text
        assert voided.json() == {"revision": 1}
        assert _events(c, GLOBEX) == before - 1
        again = c.post("/api/v1/events/void", json={**event, "reason": "twice"})
        missing = c.post("/api/v1/events/void", json={"source": "world", "id": "nope", "reason": "x"})
        no_reason = c.post("/api/v1/events/void", json={**event, "reason": ""})
        history = c.get("/api/v1/events/history", params=event)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert missing.status_code == 404
    assert no_reason.status_code == 400
    assert history.json() == cli_json(db, "events", "history", "world", f"{GLOBEX}-u2")
    assert [(r["revision"], r["action"], r["reason"]) for r in history.json()] == [(1, "void", "duplicate call")]


def test_amend_replaces_the_payload(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, db = world
    replacement = {"specversion": "1.0", "id": f"{ACME}-u2", "source": "world", "type": "llm.usage",
                   "subject": ACME, "time": "2026-10-04T10:00:00Z",
                   "data": {"provider": "acme-ai", "model": "unit-1", "usage_format": "buckets",
                            "usage": {"output": 50_000}, "task_id": f"{ACME}-t2"}}
    with server.client(keys["admin"]) as c:
        amended = c.post("/api/v1/events/amend", json={"event": replacement, "reason": "provider re-billed"})
        bad = c.post("/api/v1/events/amend", json={"event": {"source": "world"}, "reason": "x"})
        usage = c.get("/api/v1/usage", params={"customer": ACME}).json()
    assert amended.status_code == 200, amended.text
    assert amended.json() == {"revision": 1}
    assert bad.status_code == 400
    assert usage[0]["output"] == 50_000
    history = cli_json(db, "events", "history", "world", f"{ACME}-u2")
    assert [(r["action"], r["reason"]) for r in history] == [("amend", "provider re-billed")]


def test_only_admin_corrects_and_bound_keys_see_only_their_history(
        world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, _ = world
    body = {"source": "world", "id": f"{ACME}-u1", "reason": "x"}
    with server.client(keys["read"]) as c:
        refused = c.post("/api/v1/events/void", json=body)
        amend = c.post("/api/v1/events/amend", json={"event": {}, "reason": "x"})
    with server.client(keys[ACME]) as c:
        own = c.get("/api/v1/events/history", params={"source": "world", "id": f"{ACME}-u1"})
        foreign = c.get("/api/v1/events/history", params={"source": "world", "id": f"{GLOBEX}-u1"})
    assert refused.status_code == 403 and amend.status_code == 403
    assert own.status_code == 200 and own.json() == []
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden"
