"""Every report over HTTP is the CLI's --json output, byte for byte in meaning; pages, CSV, HTML, writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from api_support import ACME, GLOBEX, ThreadServer, build_world
from test_invoice_scenarios import make_template
from workmeter.app import Workmeter
from workmeter.interfaces.cli.main import app as cli


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, str, Path]]:
    folder = tmp_path_factory.mktemp("api-world")
    db = build_world(folder, make_template(tmp_path_factory))
    wm = Workmeter.open(db)
    with ThreadServer(wm) as server:
        yield server, wm.keys.create("admin")[1], db
    wm.close()


def cli_json(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), "--json", *args])
    assert result.exit_code in (0, 3), result.output
    return orjson.loads(result.stdout)


SAME_AS_CLI: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("usage", "--by", "customer,model", "--from", "2026-10", "--to", "2026-11"), "/api/v1/usage",
     {"by": "customer,model", "from": "2026-10", "to": "2026-11"}),
    (("usage", "--by", "team,day", "--customer", ACME), "/api/v1/usage", {"by": "team,day", "customer": ACME}),
    (("unpriced",), "/api/v1/unpriced", {}),
    (("rejects",), "/api/v1/rejects", {}),
    (("conflicts",), "/api/v1/conflicts", {}),
    (("tasks", "--customer", ACME), "/api/v1/tasks", {"customer": ACME}),
    (("work", "--by", "customer,workflow"), "/api/v1/work", {"by": "customer,workflow"}),
    (("roi", "--by", "workflow", "--outcome-price", "0.99"), "/api/v1/roi", {"by": "workflow", "outcome_price": "0.99"}),
    (("waste", "--by", "customer"), "/api/v1/waste", {"by": "customer"}),
    (("trends", "--by", "workflow", "--period", "day"), "/api/v1/trends", {"by": "workflow", "period": "day"}),
    (("outcomes",), "/api/v1/outcomes", {}),
    (("meters", "list"), "/api/v1/meters", {}),
    (("meters", "query", "input_tokens", "--by", "customer,day", "--from", "2026-10", "--to", "2026-11"),
     "/api/v1/meters/input_tokens/query", {"by": "customer,day", "from": "2026-10", "to": "2026-11"}),
    (("plans", "list"), "/api/v1/plans", {}),
    (("customers", "list"), "/api/v1/customers", {}),
    (("subscriptions", "list"), "/api/v1/subscriptions", {}),
    (("invoices", "list"), "/api/v1/invoices", {}),
    (("invoices", "show", "WM-000001"), "/api/v1/invoices/WM-000001", {}),
    (("invoices", "preview", ACME, "--period", "2026-11"), f"/api/v1/customers/{ACME}/invoices/preview",
     {"period": "2026-11"}),
    (("statement", GLOBEX, "--period", "2026-10"), f"/api/v1/customers/{GLOBEX}/statement", {"period": "2026-10"}),
    (("prices", "versions"), "/api/v1/prices/versions", {}),
    (("prices", "runs"), "/api/v1/prices/runs", {}),
    (("prices", "show", "unit-1", "--provider", "acme-ai", "--at", "2026-10-01"), "/api/v1/prices/card",
     {"model": "unit-1", "provider": "acme-ai", "at": "2026-10-01"}),
]


@pytest.mark.parametrize(("args", "path", "params"), SAME_AS_CLI, ids=[" ".join(a[:2]) for a, _, _ in SAME_AS_CLI])
def test_api_json_is_the_cli_json(world: tuple[ThreadServer, str, Path], args: tuple[str, ...], path: str,
                                  params: dict[str, Any]) -> None:
    server, key, db = world
    with server.client(key) as c:
        response = c.get(path, params=params)
    assert response.status_code == 200, response.text
    expected = cli_json(db, *args)
    assert response.json() == expected
    assert expected, "the world should make every report non-empty"


def test_credit_balance_and_quotes_match_the_cli(world: tuple[ThreadServer, str, Path]) -> None:
    server, key, db = world
    with server.client(key) as c:
        balance = c.get(f"/api/v1/customers/{ACME}/credits").json()
        usage = {"input": 1000, "output": 10}
        quote = c.post("/api/v1/prices/quote", json={"provider": "acme-ai", "model": "unit-1", "usage": usage,
                                                     "usage_format": "buckets", "at": "2026-10-01T00:00:00Z"}).json()
        batch = c.post("/api/v1/prices/quote/batch", json=[{"provider": "acme-ai", "model": "unit-1",
                                                            "usage_format": "buckets", "usage": usage,
                                                            "at": "2026-10-01T00:00:00Z"}, {"model": "x"}]).json()
    expected = cli_json(db, "credits", "balance", ACME)
    assert {k: v for k, v in balance.items() if k != "at"} == {k: v for k, v in expected.items() if k != "at"}
    assert quote == cli_json(db, "prices", "quote", "--provider", "acme-ai", "--model", "unit-1", "--at",
                             "2026-10-01T00:00:00Z", "--usage-format", "buckets", "--usage", orjson.dumps(usage).decode())
    assert (quote["status"], quote["total"]) == ("priced", "0.0021")  # 1000 × $2/M + 10 × $10/M
    assert batch[0] == quote and batch[1]["status"] == "invalid"


def test_cursor_pages_add_up_to_the_report(world: tuple[ThreadServer, str, Path]) -> None:
    server, key, _ = world
    params = {"by": "customer,model,day"}
    with server.client(key) as c:
        full = c.get("/api/v1/usage", params=params).json()
        pages, cursor = [], None
        for _ in range(len(full) + 1):
            r = c.get("/api/v1/usage", params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})})
            pages.extend(r.json())
            cursor = r.headers.get("x-next-cursor")
            if cursor is None:
                break
            assert 'rel="next"' in r.headers["link"]
    assert len(full) > 2 and pages == full


def test_csv_on_request(world: tuple[ThreadServer, str, Path]) -> None:
    server, key, db = world
    with server.client(key, headers={"Accept": "text/csv"}) as c:
        usage = c.get("/api/v1/usage", params={"by": "customer"})
        invoice = c.get("/api/v1/invoices/WM-000001")
    assert usage.headers["content-type"].startswith("text/csv")
    lines = usage.text.splitlines()
    assert lines[0].startswith("customer,events,input") and len(lines) == 3
    result = CliRunner().invoke(cli, ["--db", str(db), "invoices", "show", "WM-000001", "--csv", "-"])
    assert invoice.text == result.stdout


def test_invoice_html_and_errors(world: tuple[ThreadServer, str, Path]) -> None:
    server, key, _ = world
    with server.client(key) as c:
        html = c.get("/api/v1/invoices/WM-000001/html")
        missing = c.get("/api/v1/invoices/WM-999999")
        bad_period = c.get(f"/api/v1/customers/{ACME}/statement", params={"period": "2026-13"})
        bad_by = c.get("/api/v1/usage", params={"by": "colour"})
    assert html.headers["content-type"].startswith("text/html") and "WM-000001" in html.text
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert bad_period.status_code == 400 and bad_period.json()["error"]["code"] == "invalid_input"
    assert bad_by.status_code == 400 and bad_by.json()["error"]["where"] == "by"


def test_admin_manages_customers_plans_credits_and_invoices(world: tuple[ThreadServer, str, Path]) -> None:
    server, key, _ = world
    plan = "[plan]\nkey = \"lite\"\ncurrency = \"USD\"\n\n[[charge]]\nkey = \"fee\"\ntype = \"flat\"\namount = \"10.00\"\n"
    with server.client(key) as c:
        assert c.post("/api/v1/customers", json={"id": "initech", "timezone": "Europe/Paris"}).json()[0]["timezone"] \
            == "Europe/Paris"
        applied = c.post("/api/v1/plans", content=plan, headers={"content-type": "text/plain"}, params={"name": "lite"})
        assert applied.json()[0]["status"] == "created"
        sub = c.post("/api/v1/subscriptions", json={"customer": "initech", "plan": "lite", "start": "2026-10-01"})
        assert sub.json() == [{"customer": "initech", "plan": "lite", "version": 1, "start": "2026-10-01", "end": None}]
        grant = c.post("/api/v1/customers/initech/credits", json={"amount": "2.50", "reason": "trial"}).json()
        assert grant[0]["amount"] == "2.50"
        final = c.post("/api/v1/invoices/finalize", json={"customer": "initech", "period": "2026-10"})
        assert final.status_code == 200 and final.json()["total"] == "7.50"  # 10.00 fee − 2.50 credit
        number = final.json()["number"]
        again = c.post("/api/v1/invoices/finalize", json={"customer": "initech", "period": "2026-10"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        note = c.post(f"/api/v1/invoices/{number}/credit-notes", json={"amount": "1.00", "reason": "goodwill"})
        assert note.json()[0]["amount"] == "1.00"
        assert c.post(f"/api/v1/invoices/{number}/void", json={"reason": "test"}).json()["status"] == "void"
        bad_plan = c.post("/api/v1/plans", content="[plan]\nkey = 1\n", headers={"content-type": "text/plain"})
        assert bad_plan.status_code == 400 and bad_plan.json()["error"]["code"] == "invalid_plan"


def test_wrong_method_is_405_with_every_allowed_method(world: tuple[ThreadServer, str, Path]) -> None:
    server, key, _ = world
    with server.client(key) as c:
        usage = c.delete("/api/v1/usage")
        keys = c.put("/api/v1/keys")
        one_key = c.get("/api/v1/keys/abc")
        run = c.put("/api/v1/invoices/run")  # spelled out: not the methods of /invoices/{number}
    assert usage.status_code == 405 and usage.json()["error"]["code"] == "method_not_allowed"
    assert usage.headers["allow"] == "GET"
    assert keys.headers["allow"] == "GET, POST"
    assert one_key.status_code == 405 and one_key.headers["allow"] == "DELETE"
    assert run.headers["allow"] == "POST"
