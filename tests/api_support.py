"""Real servers for the API tests: uvicorn on 127.0.0.1 (a random free port) in a thread or a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from workmeter.app import Workmeter
from workmeter.interfaces.api import ServerSettings, create_app

ROOT = Path(__file__).resolve().parent.parent


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with free_socket() as sock:
        return int(sock.getsockname()[1])


class ThreadServer:
    """The real app under uvicorn in a background thread, sharing ``wm`` with the test."""

    def __init__(self, wm: Workmeter, **settings: Any) -> None:
        self.wm = wm
        self.settings = replace(ServerSettings(db=Path(wm.db.path), key_flush_seconds=0.2), **settings)
        self.app = create_app(self.settings, wm=wm)
        self.sock = free_socket()
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

    def client(self, key: str | None = None, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Client:
        auth = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers={**auth, **(headers or {})}, timeout=30, **kwargs)


class ProcessServer:
    """``workmeter serve`` as a subprocess (for kill -9 and restart)."""

    def __init__(self, db: Path, *args: str) -> None:
        self.db, self.args = db, args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ProcessServer:
        inherited = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), inherited) if p)}
        cmd = [sys.executable, "-m", "workmeter.interfaces.cli.main", "--db", str(self.db), "serve",
               "--port", str(self.port), "--log-level", "warning", *self.args]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(60)


def usage_event(id_: str, *, subject: str = "cus_a", source: str = "test", input_tokens: int = 100,
                output_tokens: int = 20, time_: str = "2026-10-01T12:00:00Z", model: str = "claude-sonnet-4-5",
                **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"provider": "anthropic", "model": model,
                            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}
    body.update(data)
    return {"specversion": "1.0", "id": id_, "source": source, "type": "llm.usage", "subject": subject,
            "time": time_, "data": body}


# -- a small billing world shared by the report and tenant tests -----------------------------
ACME, GLOBEX = "cus_acme", "cus_globex"

PLAN = """[plan]
key = "pro"
currency = "USD"

[[charge]]
key = "platform_fee"
type = "flat"
amount = "99.00"

[[charge]]
key = "tokens"
type = "markup"
percent = "20"
"""


def _usage(customer: str, n: int, day: int, task: str, **buckets: int) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"{customer}-u{n}", "source": "world", "type": "llm.usage",
            "subject": customer, "time": f"2026-10-{day:02d}T10:00:00Z",
            "data": {"provider": "acme-ai", "model": "unit-1", "usage_format": "buckets", "usage": buckets,
                     "task_id": task, "attributes": {"team": f"{customer}-team", "workflow": "triage"}}}


def _task(customer: str, kind: str, task: str, day: int, hour: int) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"{customer}-{task}-{kind}", "source": "world", "type": f"task.{kind}",
            "subject": customer, "time": f"2026-10-{day:02d}T{hour:02d}:00:00Z",
            "data": {"task_id": task, "workflow": "triage"}}


def world_events(customer: str) -> list[dict[str, Any]]:
    """Two tasks per customer (one completed and resolved, one failed), usage on both, one unpriced call."""
    unpriced = _usage(customer, 9, 5, f"{customer}-t1", input=10)
    unpriced["data"]["model"] = "unit-unknown"
    outcome = _task(customer, "outcome", f"{customer}-t1", 3, 12)
    outcome["data"].update(outcome="resolved", value="12.50", confirmed=True)
    return [outcome,
        _task(customer, "started", f"{customer}-t1", 3, 9), _usage(customer, 1, 3, f"{customer}-t1", input=1_000_000),
        _task(customer, "completed", f"{customer}-t1", 3, 11),
        _task(customer, "started", f"{customer}-t2", 4, 9), _usage(customer, 2, 4, f"{customer}-t2", output=100_000),
        _task(customer, "failed", f"{customer}-t2", 4, 11), unpriced,
    ]


def build_world(folder: Path, template: Path) -> Path:
    """ACME and GLOBEX on plan ``pro`` with October usage, tasks and finalized invoices (WM-000001/2)."""
    import shutil
    from datetime import date

    db = folder / "world.duckdb"
    shutil.copy(template, db)
    (folder / "pro.toml").write_text(PLAN)
    with Workmeter.open(db) as wm:
        wm.billing.apply_plans([folder / "pro.toml"])
        for customer in (ACME, GLOBEX):
            wm.billing.add_customer(customer, customer.title(), "USD", "UTC")
            wm.billing.subscribe(customer, "pro", date(2026, 9, 1))
            assert wm.ledger.ingest(world_events(customer)).accepted == 8
            wm.billing.finalize(customer, "2026-10")
            wm.billing.grant_credits(customer, "5.00", reason="welcome")
        conflict = _usage(ACME, 1, 3, f"{ACME}-t1", input=999)
        wm.ledger.ingest([{"specversion": "1.0", "id": "bad", "source": "world", "type": "llm.usage"}, conflict])
    return db


@contextmanager
def served_world(folder: Path, template: Path,
                 bound: tuple[str, ...] = ()) -> Iterator[tuple[ThreadServer, dict[str, str], Path]]:
    """The world (:func:`build_world`) served on 127.0.0.1, with keys ``admin``, ``read`` and a read
    key bound to each customer of ``bound`` (under the customer's id); yields server, keys, database."""
    db = build_world(folder, template)
    wm = Workmeter.open(db)
    keys = {"admin": wm.keys.create("admin")[1], "read": wm.keys.create("read")[1],
            **{customer: wm.keys.create("read", customer=customer)[1] for customer in bound}}
    with ThreadServer(wm) as server:
        yield server, keys, db
    wm.close()
