"""Tenant isolation: a key bound to one customer gets nothing of another, on every endpoint.

Every operation of the OpenAPI document is classified below; a new route that
is not classified fails :func:`test_every_operation_is_classified`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api_support import ACME, GLOBEX, PLAN, ThreadServer, build_world
from test_invoice_scenarios import make_template
from workmeter.app import Workmeter

INVOICE = {ACME: "WM-000001", GLOBEX: "WM-000002"}

#: Reads a bound key may make for its own customer: (path template, query) — ``{me}`` is the key's customer.
OWN: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/api/v1/usage", {"by": "customer,model,team,task"}),
    ("GET", "/api/v1/unpriced", {}),
    ("GET", "/api/v1/meters", {}),
    ("GET", "/api/v1/meters/{key}/query", {"by": "customer,task"}),
    ("GET", "/api/v1/customers", {}),
    ("GET", "/api/v1/customers/{customer}", {}),
    ("GET", "/api/v1/customers/{customer}/credits", {}),
    ("GET", "/api/v1/customers/{customer}/invoices/preview", {"period": "2026-10"}),
    ("GET", "/api/v1/customers/{customer}/statement", {"period": "2026-10"}),
    ("GET", "/api/v1/subscriptions", {}),
    ("GET", "/api/v1/invoices", {}),
    ("GET", "/api/v1/invoices/{number}", {}),
    ("GET", "/api/v1/invoices/{number}/html", {}),
    ("GET", "/api/v1/tasks", {}),
    ("GET", "/api/v1/work", {"by": "customer,team"}),
    ("GET", "/api/v1/roi", {"by": "customer"}),
    ("GET", "/api/v1/waste", {"by": "customer"}),
    ("GET", "/api/v1/trends", {"by": "customer"}),
    ("GET", "/api/v1/outcomes", {}),
]
#: Provider-wide data (every customer, or the provider's own costs): refused to a bound key.
UNBOUND_ONLY = [("GET", "/api/v1/rejects"), ("GET", "/api/v1/conflicts"), ("GET", "/api/v1/plans"),
                ("GET", "/api/v1/prices/versions"), ("GET", "/api/v1/prices/runs"), ("GET", "/api/v1/prices/card"),
                ("POST", "/api/v1/prices/quote"), ("POST", "/api/v1/prices/quote/batch"),
                ("GET", "/api/v1/prices/check"), ("GET", "/api/v1/prices/books")]
ADMIN_ONLY = [("POST", "/api/v1/customers"), ("POST", "/api/v1/plans"), ("POST", "/api/v1/subscriptions"),
              ("POST", "/api/v1/customers/{customer}/credits"), ("POST", "/api/v1/invoices/finalize"),
              ("POST", "/api/v1/invoices/{number}/void"), ("POST", "/api/v1/invoices/{number}/credit-notes"),
              ("POST", "/api/v1/invoices/run"), ("GET", "/api/v1/keys"), ("POST", "/api/v1/keys"),
              ("DELETE", "/api/v1/keys/{key_id}"), ("POST", "/api/v1/events/void"),
              ("POST", "/api/v1/events/amend"), ("POST", "/api/v1/prices/sync"), ("POST", "/api/v1/rerate"),
              ("POST", "/api/v1/subscriptions/migrate"), ("POST", "/api/v1/subscriptions/end"),
              ("PATCH", "/api/v1/customers/{customer}"), ("DELETE", "/api/v1/prices/books/{name}"),
              ("DELETE", "/api/v1/prices/books")]
#: Reads about one event: a bound key may read its own customer's events only (source, id of ``{me}``).
OWN_EVENT = [("GET", "/api/v1/events/history")]
#: Computations over customers named in the body: a bound key may name (or default to) only its own.
OWN_BODY: list[tuple[str, str, dict[str, object]]] = [
    ("POST", "/api/v1/simulate", {"plans": [{"name": "pro.toml", "toml": PLAN}], "period": "2026-10"}),
]
INGEST_ONLY = [("POST", "/api/v1/events"), ("POST", "/v1/traces")]  # bound ingest: see test_api_ingest / test_otlp
OPERATIONS = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, dict[str, str]]]:
    db = build_world(tmp_path_factory.mktemp("tenants"), make_template(tmp_path_factory))
    wm = Workmeter.open(db)
    keys = {c: wm.keys.create("read", customer=c)[1] for c in (ACME, GLOBEX)}
    with ThreadServer(wm) as server:
        yield server, keys
    wm.close()


def _url(template: str, customer: str, invoice_of: str | None = None) -> str:
    return (template.replace("{customer}", customer).replace("{number}", INVOICE[invoice_of or customer])
            .replace("{key}", "input_tokens").replace("{key_id}", "x"))


def test_every_operation_is_classified(world: tuple[ThreadServer, dict[str, str]]) -> None:
    server, _ = world
    with server.client() as c:
        doc = c.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    classified = {(m, p) for m, p, _ in OWN} | {*UNBOUND_ONLY, *ADMIN_ONLY, *INGEST_ONLY, *OPERATIONS,
                                                      *OWN_EVENT,
                                                      *((m, p) for m, p, _ in OWN_BODY)}
    assert documented == classified


@pytest.mark.parametrize(("me", "other"), [(ACME, GLOBEX), (GLOBEX, ACME)])
@pytest.mark.parametrize(("method", "template", "params"), OWN, ids=[t for _, t, _ in OWN])
def test_bound_key_sees_only_its_customer(world: tuple[ThreadServer, dict[str, str]], me: str, other: str,
                                          method: str, template: str, params: dict[str, str]) -> None:
    server, keys = world
    with server.client(keys[me]) as c:
        own = c.request(method, _url(template, me), params=params)
        assert own.status_code == 200, own.text
        assert other not in own.text, f"{template} leaks {other} to {me}"
        if "{customer}" in template or "{number}" in template:
            foreign = c.request(method, _url(template, other), params=params)
        else:
            foreign = c.request(method, _url(template, me), params={**params, "customer": other})
    if template == "/api/v1/meters" or (template == "/api/v1/customers" and "customer" not in params):
        assert other not in foreign.text  # no customer filter to ask for: the list holds only `me`
    else:
        assert foreign.status_code == 403, f"{template} answered {foreign.status_code} for {other}"
        assert foreign.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("me", "other"), [(ACME, GLOBEX), (GLOBEX, ACME)])
@pytest.mark.parametrize(("method", "template"), OWN_EVENT)
def test_bound_key_reads_only_its_own_events(world: tuple[ThreadServer, dict[str, str]], me: str, other: str,
                                             method: str, template: str) -> None:
    server, keys = world
    with server.client(keys[me]) as c:
        own = c.request(method, template, params={"source": "world", "id": f"{me}-u1"})
        foreign = c.request(method, template, params={"source": "world", "id": f"{other}-u1"})
    assert own.status_code == 200 and other not in own.text
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("me", "other"), [(ACME, GLOBEX), (GLOBEX, ACME)])
@pytest.mark.parametrize(("method", "template", "body"), OWN_BODY, ids=[t for _, t, _ in OWN_BODY])
def test_bound_key_computes_only_for_its_customer(world: tuple[ThreadServer, dict[str, str]], me: str, other: str,
                                                  method: str, template: str, body: dict[str, object]) -> None:
    server, keys = world
    with server.client(keys[me]) as c:
        own = c.request(method, template, json=body)
        foreign = c.request(method, template, json={**body, "customers": [other]})
    assert own.status_code == 200 and me in own.text and other not in own.text
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden"


def test_own_data_is_really_there(world: tuple[ThreadServer, dict[str, str]]) -> None:
    server, keys = world
    with server.client(keys[ACME]) as c:
        usage = c.get("/api/v1/usage").json()
        tasks = c.get("/api/v1/tasks").json()
        invoices = c.get("/api/v1/invoices").json()
    assert [r["customer"] for r in usage] == [ACME]
    assert {t["task_id"] for t in tasks} == {f"{ACME}-t1", f"{ACME}-t2"}
    assert [i["number"] for i in invoices] == [INVOICE[ACME]]


@pytest.mark.parametrize(("method", "template"), UNBOUND_ONLY + ADMIN_ONLY + INGEST_ONLY)
def test_bound_read_key_is_refused_elsewhere(world: tuple[ThreadServer, dict[str, str]], method: str,
                                             template: str) -> None:
    server, keys = world
    with server.client(keys[ACME]) as c:
        response = c.request(method, _url(template, ACME), json={}, params={"model": "unit-1", "period": "2026-10"})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


def test_operations_endpoints_carry_no_customer_data(world: tuple[ThreadServer, dict[str, str]]) -> None:
    server, _ = world
    with server.client() as c:
        for _, path in OPERATIONS:
            response = c.get(path)
            assert response.status_code == 200 and ACME not in response.text and GLOBEX not in response.text
    assert "workmeter_unpriced_events 2" in response.text  # one unknown-model call per customer
