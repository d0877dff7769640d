"""kill -9 under sustained ingest: every acknowledged event survives, retries never double count."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx

from api_support import ProcessServer, usage_event
from workmeter.app import Workmeter


def _sender(url: str, key: str, name: str, acked: list[str], unacked: list[list[str]], stop: threading.Event) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
        n = 0
        while not stop.is_set() and n < 10_000:
            ids = [f"{name}-{n}-{i}" for i in range(50)]
            n += 1
            try:
                r = client.post("/api/v1/events", json=[usage_event(i, subject=f"cus_{name}") for i in ids])
            except httpx.TransportError:
                unacked.append(ids)
                return
            if r.status_code == 204:
                acked.extend(ids)
            else:
                unacked.append(ids)


def test_sigkill_loses_no_acknowledged_event_and_retries_count_once(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    with Workmeter.open(db) as wm:
        key = wm.keys.create("ingest")[1]
    server = ProcessServer(db).start()
    acked: list[str] = []
    unacked: list[list[str]] = []
    stop = threading.Event()
    threads = [threading.Thread(target=_sender, args=(server.url, key, f"t{i}", acked, unacked, stop))
               for i in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 3_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL while the senders are mid-request
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) >= 3_000

    server = ProcessServer(db).start()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        resend = [*unacked, acked[:50]]  # the lost requests, and one that did commit
        for ids in resend:
            r = client.post("/api/v1/events", json=[usage_event(i, subject=f"cus_{i.split('-')[0]}") for i in ids])
            assert r.status_code == 204
    assert server.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after its graceful stop

    with Workmeter.open(db) as wm:
        counts = dict(wm.db.read().execute("SELECT id, count(*) FROM events GROUP BY id").fetchall())
    assert all(counts.get(i) == 1 for i in acked), "an acknowledged event is missing or counted twice"
    assert all(counts.get(i) == 1 for ids in unacked for i in ids)
    assert set(counts) == set(acked) | {i for ids in unacked for i in ids}
