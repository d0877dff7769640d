"""Benchmark: durable HTTP ingest of 1000-event batches from several connections.

Starts ``workmeter``'s real app under uvicorn in a subprocess on 127.0.0.1 and
drives it with keep-alive connections (one thread each) posting
``application/cloudevents-batch+json`` bodies of unique ``llm.usage`` events:

1. against ``/bench/discard`` — the same app, auth and JSON parsing, but the
   events are dropped (the HTTP framework's ceiling on this machine);
2. against ``/api/v1/events`` — durable: a 204 only after the group commit.

Prints events/s, request latency p50/p99 and the server's peak RSS per phase,
then checks the ledger holds exactly the acknowledged events.

    PYTHONPATH=src .venv/bin/python bench/bench_http_ingest.py --duration 60 --connections 4
"""


import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


# -- server side --------------------------------------------------------------------------
def serve(port: int, db: str, max_events: int) -> None:
    import uvicorn
    from fastapi import Request, Security
    from starlette.responses import Response

    from workmeter.interfaces.api import ServerSettings, create_app
    from workmeter.interfaces.api.auth import INGEST, Principal
    from workmeter.interfaces.api.body import media_type, read_body
    from workmeter.interfaces.api.routes_ingest import check_media, parse_events

    settings = ServerSettings(db=Path(db), port=port, max_events_per_request=max_events)
    app = create_app(settings)

    @app.post("/bench/discard", status_code=204, response_class=Response, response_model=None,
              include_in_schema=False)
    async def discard(request: Request, principal: Principal = Security(INGEST)) -> Response:
        media = media_type(request)
        check_media(media)
        parse_events(await read_body(request, settings.max_body_bytes), media, settings.max_events_per_request)
        return Response(status_code=204)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- load side ----------------------------------------------------------------------------
_HEAD = b'{"specversion":"1.0","id":"'
_MID = b'","source":"bench","type":"llm.usage","subject":"cus_'
_TAIL = (b'","time":"2026-10-01T12:00:00Z","data":{"provider":"anthropic","model":"claude-sonnet-4-5",'
         b'"usage":{"input_tokens":1200,"output_tokens":300,"cache_read_input_tokens":800},'
         b'"attributes":{"team":"support","workflow":"triage"}}}')


def batch_body(prefix: str, start: int, size: int) -> bytes:
    events = [b"".join((_HEAD, f"{prefix}-{i}".encode(), _MID, str(i % 97).encode(), _TAIL))
              for i in range(start, start + size)]
    return b"[" + b",".join(events) + b"]"


@dataclass
class Phase:
    name: str
    events: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    peak_rss: int = 0
    seconds: float = 0.0


def drive(port: int, path: str, key: str, phase: Phase, duration: float, connections: int, batch: int,
          run_id: str) -> None:
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/cloudevents-batch+json", "Authorization": f"Bearer {key}"}
        i = 0
        while time.monotonic() < deadline:
            body = batch_body(f"{run_id}{phase.name}{n}", i, batch)
            i += batch
            started = time.perf_counter()
            conn.request("POST", path, body, headers)
            resp = conn.getresponse()
            resp.read()
            elapsed = time.perf_counter() - started
            with lock:
                if resp.status == 204:
                    phase.events += batch
                    phase.latencies.append(elapsed)
                else:
                    phase.errors += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - started


def sample_rss(pid: int, phase: Phase, stop: threading.Event) -> None:
    proc = psutil.Process(pid)
    while not stop.is_set():
        try:
            phase.peak_rss = max(phase.peak_rss, proc.memory_info().rss)
        except psutil.Error:
            return
        stop.wait(0.05)


def run_phase(pid: int, port: int, path: str, key: str, name: str, args: argparse.Namespace) -> Phase:
    phase = Phase(name)
    stop = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(pid, phase, stop))
    sampler.start()
    drive(port, path, key, phase, args.duration, args.connections, args.batch, args.run_id)
    stop.set()
    sampler.join()
    return phase


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase (60 for the target run)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--db", default=None, help="DuckDB file (default: a fresh temporary one)")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.db, args.batch)
        return
    from workmeter.app import Workmeter

    db = args.db or str(Path(tempfile.mkdtemp()) / "bench_http.duckdb")
    with Workmeter.open(db) as wm:
        key = wm.keys.create("ingest", name="bench")[1]
    args.run_id = f"r{int(time.time())}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--db", db, "--batch", str(args.batch)],
                            env=env)
    try:
        wait_ready(port, proc)
        discard = run_phase(proc.pid, port, "/bench/discard", key, "discard", args)
        durable = run_phase(proc.pid, port, "/api/v1/events", key, "durable", args)
    finally:
        proc.terminate()
        proc.wait(120)
    with Workmeter.open(db) as wm:
        stored = wm.db.read().execute("SELECT count(*) FROM events").fetchone()[0]
    report([discard, durable], args)
    print(f"\nledger check: {stored:,} events stored, {durable.events:,} acknowledged "
          f"({'OK' if stored == durable.events else 'MISMATCH'})")


def report(phases: list[Phase], args: argparse.Namespace) -> None:
    print(f"\nHTTP ingest, {args.batch}-event batches, {args.connections} connections, "
          f"{args.duration:.0f} s per phase, {os.cpu_count()} CPUs")
    print(f"{'endpoint':<28}{'events/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'peak RSS MiB':>14}{'errors':>8}")
    for p in phases:
        lat = sorted(p.latencies) or [0.0]
        p99 = statistics.quantiles(lat, n=100)[98] if len(lat) > 1 else lat[0]
        label = "/bench/discard (parse only)" if p.name == "discard" else "/api/v1/events (durable)"
        print(f"{label:<28}{p.events / p.seconds:>12,.0f}{statistics.median(lat) * 1000:>10.1f}"
              f"{p99 * 1000:>10.1f}{p.peak_rss / 2**20:>14.0f}{p.errors:>8}")


if __name__ == "__main__":
    main()
