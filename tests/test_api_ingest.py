"""HTTP ingest against a real server: the openmeter client, batches, limits, backpressure, auth."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from api_support import ProcessServer, ThreadServer, usage_event
from workmeter.app import Workmeter


@pytest.fixture
def server(wm: Workmeter) -> Iterator[ThreadServer]:
    with ThreadServer(wm, max_body_bytes=200_000, max_events_per_request=50) as srv:
        yield srv


@pytest.fixture
def admin(server: ThreadServer) -> str:
    return server.wm.keys.create("admin")[1]


def _usage(server: ThreadServer, key: str, by: str = "customer") -> list[dict]:
    with server.client(key) as c:
        r = c.get("/api/v1/usage", params={"by": by})
        assert r.status_code == 200, r.text
        return r.json()


def test_openmeter_client_ingest_single_and_batch(server: ThreadServer, admin: str) -> None:
    from openmeter import Client

    key = server.wm.keys.create("ingest")[1]
    client = Client(endpoint=server.url, token=key)
    ev = usage_event("om-1", subject="cus_a", input_tokens=10, output_tokens=5)
    client.events.ingest_event(ev)  # raises unless the server answers 204
    client.events.ingest_events([usage_event("om-2", subject="cus_a"), usage_event("om-3", subject="cus_b")])
    client.events.ingest_event(ev)  # a retry: 204, counted once
    rows = {r["customer"]: r for r in _usage(server, admin)}
    assert rows["cus_a"]["events"] == 2 and rows["cus_a"]["input"] == 110
    assert rows["cus_b"]["events"] == 1


def test_report_gives_each_event_its_status(server: ThreadServer) -> None:
    key = server.wm.keys.create("ingest")[1]
    first = usage_event("r-1")
    changed = usage_event("r-1", input_tokens=999)
    bad = {**usage_event("r-2"), "time": "yesterday"}
    with server.client(key) as c:
        assert c.post("/api/v1/events", json=[first]).status_code == 204
        r = c.post("/api/v1/events?report=true", json=[usage_event("r-3"), first, changed, bad],
                   headers={"content-type": "application/cloudevents-batch+json"})
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["conflicts"], body["rejected"]) == (1, 1, 1, 1)
    assert [(x["position"], x["status"]) for x in body["results"]] == \
        [(0, "accepted"), (1, "duplicate"), (2, "conflict"), (3, "rejected")]
    assert "time" in body["results"][3]["reason"]


def test_a_single_rejected_event_is_a_400_with_the_reason_and_kept_in_rejects(server: ThreadServer,
                                                                               admin: str) -> None:
    with server.client(admin) as c:
        r = c.post("/api/v1/events", content=orjson.dumps({**usage_event("bad-1"), "specversion": "0.3"}),
                   headers={"content-type": "application/cloudevents+json"})
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "invalid_event" and "specversion" in r.json()["error"]["message"]
        rejects = c.get("/api/v1/rejects").json()
    assert rejects[0]["id"] == "bad-1" and "specversion" in rejects[0]["reason"]


def test_bad_bodies_get_one_clear_error_shape(server: ThreadServer, admin: str) -> None:
    with server.client(admin) as c:
        cases = [
            (c.post("/api/v1/events", content=b"{not json", headers={"content-type": "application/json"}),
             400, "invalid_input"),
            (c.post("/api/v1/events", content=b"[1, 2]", headers={"content-type": "application/json"}),
             400, "invalid_input"),
            (c.post("/api/v1/events", content=b"[]", headers={"content-type": "application/cloudevents+json"}),
             400, "invalid_input"),
            (c.post("/api/v1/events", content=b"a,b", headers={"content-type": "text/csv"}),
             415, "unsupported_media"),
            (c.post("/api/v1/events", json=[usage_event(f"m{i}") for i in range(51)]), 400, "invalid_input"),
            (c.post("/api/v1/events", content=b"[" + b" " * 300_000 + b"]",
                    headers={"content-type": "application/json"}), 413, "too_large"),
            (c.post("/api/v1/events", content=gzip.compress(b"[" + b" " * 300_000 + b"]"),
                    headers={"content-type": "application/json", "content-encoding": "gzip"}),
             413, "too_large"),
        ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]


def test_gzip_body_is_accepted(server: ThreadServer, admin: str) -> None:
    with server.client(admin) as c:
        r = c.post("/api/v1/events", content=gzip.compress(orjson.dumps([usage_event("gz-1")])),
                   headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert r.status_code == 204
    assert _usage(server, admin)[0]["events"] == 1


def test_a_reformatted_resend_is_a_duplicate_and_bad_text_a_400(server: ThreadServer) -> None:
    """Events are stored from their own JSON text; spacing and escapes do not make a re-send a conflict."""
    key = server.wm.keys.create("ingest")[1]
    events = [usage_event("fmt-1", subject="cus_\u00e9"), usage_event("fmt-2")]
    pretty = orjson.dumps(events, option=orjson.OPT_INDENT_2)
    escaped = pretty.replace("cus_\u00e9".encode(), b"cus_\\u00e9").replace(b"claude-", b"claude\\u002d")
    with server.client(key) as c:
        first = c.post("/api/v1/events?report=true", content=b" \n" + escaped,
                       headers={"content-type": "application/json"}).json()
        again = c.post("/api/v1/events?report=true", json=events).json()
        bad_utf8 = c.post("/api/v1/events", content=b'[{"id": "\xff"}]', headers={"content-type": "application/json"})
    assert (first["accepted"], again["duplicates"], again["conflicts"]) == (2, 2, 0)
    assert bad_utf8.status_code == 400 and bad_utf8.json()["error"]["code"] == "invalid_input"


def test_keys_scopes_and_headers(server: ThreadServer) -> None:
    ingest = server.wm.keys.create("ingest")[1]
    read = server.wm.keys.create("read")[1]
    revoked_key, revoked = server.wm.keys.create("admin")
    server.wm.keys.revoke(revoked_key.id)
    ev = [usage_event("k-1")]
    with httpx.Client(base_url=server.url) as c:
        missing = c.post("/api/v1/events", json=ev)
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        assert c.post("/api/v1/events", json=ev, headers={"Authorization": f"Bearer {revoked}"}).status_code == 401
        assert c.post("/api/v1/events", json=ev, headers={"Authorization": "Bearer wm_x_y"}).status_code == 401
        wrong = c.post("/api/v1/events", json=ev, headers={"X-Api-Key": read})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
        assert c.get("/api/v1/usage", headers={"X-Api-Key": ingest}).status_code == 403
        assert c.post("/api/v1/events", json=ev, headers={"X-Api-Key": ingest}).status_code == 204
        assert c.get("/api/v1/usage", headers={"X-Api-Key": read}).status_code == 200
        assert c.get("/api/v1/keys", headers={"X-Api-Key": read}).status_code == 403


def test_bound_key_ingests_only_its_customer(server: ThreadServer, admin: str) -> None:
    key = server.wm.keys.create("ingest", customer="cus_a")[1]
    with server.client(key) as c:
        denied = c.post("/api/v1/events", json=[usage_event("b-1", subject="cus_a"),
                                                 usage_event("b-2", subject="cus_b")])
        assert denied.status_code == 403 and denied.json()["error"]["where"] == "body[1].subject"
        no_subject = usage_event("b-3")
        del no_subject["subject"]
        assert c.post("/api/v1/events", json=[no_subject]).status_code == 204
        # a repeated "subject" member: the value checked (the last) is the one stored
        twice = orjson.dumps(usage_event("b-4", subject="cus_b")).replace(b'"subject":"cus_b"',
                                                                          b'"subject":"cus_b","subject":"cus_a"')
        assert c.post("/api/v1/events", content=b"[" + twice + b"]",
                      headers={"content-type": "application/json"}).status_code == 204
    assert [(r["customer"], r["events"]) for r in _usage(server, admin)] == [("cus_a", 2)]


def test_full_queue_answers_429_with_retry_after_and_nothing_is_lost(wm: Workmeter) -> None:
    with ThreadServer(wm, max_queued_events=10) as server:
        key = wm.keys.create("admin")[1]
        results: dict[str, int] = {}

        def post(name: str, n: int) -> None:
            with server.client(key) as c:
                events = [usage_event(f"{name}-{i}") for i in range(n)]
                results[name] = c.post("/api/v1/events", json=events).status_code

        hold = wm.db.write()  # the writer cannot commit while the test holds the write transaction
        hold.__enter__()
        try:
            first = threading.Thread(target=post, args=("first", 8))
            first.start()
            _wait(lambda: server.app.state.writer.queued_events == 8)
            with server.client(key) as c:
                r = c.post("/api/v1/events", json=[usage_event(f"second-{i}") for i in range(5)])
            assert r.status_code == 429 and r.headers["retry-after"] == "1"
            assert r.json()["error"]["code"] == "overloaded"
        finally:
            hold.__exit__(None, None, None)
        first.join(30)
        assert results["first"] == 204
        assert _usage(server, key)[0]["events"] == 8


def test_concurrent_requests_share_one_commit(wm: Workmeter) -> None:
    with ThreadServer(wm) as server:
        key = wm.keys.create("admin")[1]
        metrics = server.app.state.metrics
        statuses: list[int] = []

        def post(i: int) -> None:
            with server.client(key) as c:
                statuses.append(c.post("/api/v1/events", json=[usage_event(f"g{i}-{j}") for j in range(3)])
                                .status_code)

        hold = wm.db.write()
        hold.__enter__()
        try:
            threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
            for t in threads:
                t.start()
            _wait(lambda: server.app.state.writer.queued_events == 18)
            before = metrics.value("workmeter_commits_total")
        finally:
            hold.__exit__(None, None, None)
        for t in threads:
            t.join(30)
        assert statuses == [204] * 6
        # the first request may already be inside its transaction; the other five share one
        assert metrics.value("workmeter_commits_total") - before <= 2
        assert _usage(server, key)[0]["events"] == 18


def test_each_request_of_a_shared_commit_gets_its_own_results(wm: Workmeter) -> None:
    with ThreadServer(wm) as server:
        key = wm.keys.create("admin")[1]
        answers: dict[int, httpx.Response] = {}

        def post(i: int) -> None:
            events = [usage_event(f"x{i}-{j}") for j in range(3)] + [usage_event(f"x{i}-0")]
            with server.client(key) as c:
                answers[i] = c.post("/api/v1/events", params={"report": "true"} if i % 2 else {}, json=events)

        hold = wm.db.write()
        hold.__enter__()
        try:
            threads = [threading.Thread(target=post, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            _wait(lambda: server.app.state.writer.queued_events == 16)
        finally:
            hold.__exit__(None, None, None)
        for t in threads:
            t.join(30)
    assert [answers[i].status_code for i in range(4)] == [204, 200, 204, 200]
    for i in (1, 3):
        body = answers[i].json()
        assert (body["accepted"], body["duplicates"]) == (3, 1)
        assert [(r["position"], r["id"], r["status"]) for r in body["results"]] == \
            [(0, f"x{i}-0", "accepted"), (1, f"x{i}-1", "accepted"), (2, f"x{i}-2", "accepted"),
             (3, f"x{i}-0", "duplicate")]


def test_graceful_shutdown_commits_what_was_acknowledged(wm: Workmeter) -> None:
    key = wm.keys.create("ingest")[1]
    server = ThreadServer(wm)
    with server:
        with server.client(key) as c:
            for i in range(5):
                assert c.post("/api/v1/events", json=[usage_event(f"s{i}-{j}") for j in range(20)]).status_code == 204
    assert not server.app.state.writer.alive
    assert wm.db.read().execute("SELECT count(*) FROM events").fetchone()[0] == 100


def test_ops_endpoints(server: ThreadServer, admin: str) -> None:
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json()["status"] == "ready"
        with server.client(admin) as a:
            assert a.post("/api/v1/events", json=[usage_event("m-1"), usage_event("m-1")]).status_code == 204
        text = c.get("/metrics").text
    assert 'workmeter_events_total{origin="api",status="accepted"} 1' in text
    assert 'workmeter_events_total{origin="api",status="duplicate"} 1' in text
    assert "workmeter_request_duration_seconds_bucket" in text and "workmeter_writer_queue_events 0" in text
    # every metric's samples sit directly under its own HELP/TYPE lines (one group per metric)
    current = None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            current = line.split()[2]
        elif line and not line.startswith("#"):
            assert current is not None and line.startswith(current), line


def _wait(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)




def test_logs_are_json_and_never_carry_keys_or_payloads(server: ThreadServer, caplog: pytest.LogCaptureFixture) -> None:
    from workmeter.interfaces.api.logs import JsonFormatter

    key = server.wm.keys.create("ingest")[1]
    caplog.set_level("INFO", logger="workmeter")
    with server.client(key) as c:
        assert c.post("/api/v1/events", json=[usage_event("log-1", subject="cus_secret_payload")]).status_code == 204
        assert c.post("/api/v1/events", json=[usage_event("log-2")], headers={"Authorization": "Bearer wm_bad_key"}
                      ).status_code == 401
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name.startswith("workmeter")]
    access = [orjson.loads(line) for line in lines if '"request"' in line]
    assert access and all(a["route"] == "/api/v1/events" for a in access)
    assert access[0]["key"] == f"wm_{key.split('_')[1]}" and access[0]["status"] == 204
    text = "\n".join(lines)
    assert key.split("_", 2)[2] not in text and "wm_bad_key" not in text and "cus_secret_payload" not in text


def test_no_auth_says_so_loudly_and_needs_no_key(tmp_path: Path) -> None:
    server = ProcessServer(tmp_path / "open.duckdb", "--no-auth", "--db-threads", "1").start()  # one DuckDB thread
    try:
        assert httpx.post(f"{server.url}/api/v1/events", json=[usage_event("open-1")], timeout=10).status_code == 204
        assert httpx.get(f"{server.url}/api/v1/usage", timeout=10).json()[0]["events"] == 1
    finally:
        server.stop()
    assert server.proc is not None and server.proc.stderr is not None
    assert "authentication is OFF" in server.proc.stderr.read().decode()
