"""The pricing simulator over HTTP: plans as TOML texts, the same JSON as ``workmeter simulate --json``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api_support import ACME, GLOBEX, PLAN, ThreadServer, build_world
from test_api_reports import cli_json
from test_invoice_scenarios import make_template
from workmeter.app import Workmeter

CHEAP = PLAN.replace('key = "pro"', 'key = "cheap"').replace('amount = "99.00"', 'amount = "9.00"')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, dict[str, str], Path]]:
    folder = tmp_path_factory.mktemp("api-simulate")
    db = build_world(folder, make_template(tmp_path_factory))
    wm = Workmeter.open(db)
    keys = {"read": wm.keys.create("read")[1], ACME: wm.keys.create("read", customer=ACME)[1]}
    with ThreadServer(wm) as server:
        yield server, keys, db
    wm.close()


def test_simulate_is_the_cli_json(world: tuple[ThreadServer, dict[str, str], Path], tmp_path: Path) -> None:
    server, keys, db = world
    (tmp_path / "pro.toml").write_text(PLAN)
    (tmp_path / "cheap.toml").write_text(CHEAP)
    body = {"plans": [{"name": "pro.toml", "toml": PLAN}, {"name": "cheap.toml", "toml": CHEAP}],
            "period": "2026-10"}
    with server.client(keys["read"]) as c:
        response = c.post("/api/v1/simulate", json=body)
    assert response.status_code == 200, response.text
    expected = cli_json(db, "simulate", str(tmp_path / "pro.toml"), str(tmp_path / "cheap.toml"),
                        "--period", "2026-10")
    assert response.json() == expected
    assert ACME in response.text and GLOBEX in response.text


def test_bad_plans_name_the_plan(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, _ = world
    with server.client(keys["read"]) as c:
        bad = c.post("/api/v1/simulate", json={"plans": [{"name": "broken.toml", "toml": "[plan]\nkey = 1\n"}],
                                               "period": "2026-10"})
        twice = c.post("/api/v1/simulate", json={"plans": [{"name": "a.toml", "toml": PLAN}] * 2,
                                                 "period": "2026-10"})
        unknown = c.post("/api/v1/simulate", json={"plans": [{"name": "a.toml", "toml": PLAN}],
                                                   "period": "2026-10", "customers": ["nobody"]})
    assert bad.status_code == 400 and "broken.toml" in bad.text and "wm-simulate" not in bad.text
    assert twice.status_code == 400 and unknown.status_code == 404


def test_bound_key_simulates_only_its_customer(world: tuple[ThreadServer, dict[str, str], Path]) -> None:
    server, keys, _ = world
    body = {"plans": [{"name": "pro.toml", "toml": PLAN}], "period": "2026-10"}
    with server.client(keys[ACME]) as c:
        own = c.post("/api/v1/simulate", json=body)
        foreign = c.post("/api/v1/simulate", json={**body, "customers": [GLOBEX]})
    assert own.status_code == 200 and ACME in own.text and GLOBEX not in own.text
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden"
