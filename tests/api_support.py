"""Real servers for the API tests: uvicorn on 127.0.0.1 (a random free port) in a thread or a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
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

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


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
