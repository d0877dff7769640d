"""Benchmark: durable HTTP ingest of 1000-event batches from several connections.

Starts ``workmeter``'s real app under uvicorn in a subprocess on 127.0.0.1 and
drives it from one asyncio load client (keep-alive connections, one request in
flight on each) posting ``application/cloudevents-batch+json`` bodies of
unique ``llm.usage`` events:

1. against ``/bench/discard`` — the same app, auth and body splitting, but the
   events are dropped (the HTTP framework's ceiling on this machine);
2. against ``/api/v1/events`` — durable: a 204 only after the group commit.

The client is cheap on purpose (it shares the machine): each connection
serializes one body template once and makes every request's ids unique with
one byte replace. Per phase it prints events/s (overall and the slowest
10-second window), request latency p50/p99, the server's peak RSS, the CPU
seconds of the server (event-loop thread = HTTP and splitting; other threads
= writer and DuckDB) and of the client, the server's CPU per event (far less
sensitive than events/s to other work on the machine), and the writer's group commits
(count, mean events per commit, mean commit time). Then it checks that the
ledger holds exactly the acknowledged events.

    PYTHONPATH=src .venv/bin/python bench/bench_http_ingest.py --duration 60

Defaults: 64 connections and the server's own defaults (DuckDB one thread per
core). ``--db-threads 1`` costs less CPU per event (the HTTP loop keeps a core),
but the writer thread is then the bottleneck: on 2 cores two DuckDB threads
give more events per second (107.6k against 101.4k in 60 s runs).
"""


import argparse
import asyncio
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
PLACEHOLDER = b"#TAG#"


# -- server side --------------------------------------------------------------------------
def serve(port: int, db: str, max_events: int, db_threads: int | None) -> None:
    import uvicorn
    from fastapi import Request, Security
    from starlette.responses import Response

    from workmeter.interfaces.api import ServerSettings, create_app
    from workmeter.interfaces.api.auth import INGEST, Principal
    from workmeter.interfaces.api.body import media_type, read_body
    from workmeter.interfaces.api.routes_ingest import bind_subject, check_media, parse_events

    settings = ServerSettings(db=Path(db), port=port, max_events_per_request=max_events, db_threads=db_threads)
    app = create_app(settings)

    @app.post("/bench/discard", status_code=204, response_class=Response, response_model=None,
              include_in_schema=False)
    async def discard(request: Request, principal: Principal = Security(INGEST)) -> Response:
        media = media_type(request)
        check_media(media)
        texts, _ = parse_events(await read_body(request, settings.max_body_bytes), media,
                                settings.max_events_per_request)
        bind_subject(texts, principal)
        return Response(status_code=204)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- load side ----------------------------------------------------------------------------
_HEAD = b'{"specversion":"1.0","id":"'
_MID = b'","source":"bench","type":"llm.usage","subject":"cus_'
_TAIL = (b'","time":"2026-10-01T12:00:00Z","data":{"provider":"anthropic","model":"claude-sonnet-4-5",'
         b'"usage":{"input_tokens":1200,"output_tokens":300,"cache_read_input_tokens":800},'
         b'"attributes":{"team":"support","workflow":"triage"}}}')


def batch_template(size: int) -> bytes:
    """A JSON array of ``size`` events whose ids are ``#TAG#-<i>`` (the tag made unique per request)."""
    events = [b"".join((_HEAD, PLACEHOLDER, b"-", str(i).encode(), _MID, str(i % 97).encode(), _TAIL))
              for i in range(size)]
    return b"[" + b",".join(events) + b"]"


@dataclass
class Phase:
    name: str
    events: int = 0
    acked: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)
    peak_rss: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    loop_cpu: float = 0.0
    client_cpu: float = 0.0
    commits: float = 0.0
    committed: float = 0.0
    commit_seconds: float = 0.0


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes) -> int:
    writer.write(head % len(body))
    writer.write(body)
    response = await reader.readuntil(b"\r\n\r\n")
    status = int(response[9:12])
    lower = response.lower()
    at = lower.find(b"content-length:")
    if at >= 0:
        length = int(lower[at + 15:lower.index(b"\r\n", at)])
        if length:
            await reader.readexactly(length)
    return status


async def _drive(port: int, path: str, key: str, phase: Phase, args: argparse.Namespace) -> None:
    template = batch_template(args.batch)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cloudevents-batch+json\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: %d\r\n\r\n").encode()
    started = time.perf_counter()
    warm_until = started + args.warmup
    deadline = warm_until + args.duration

    async def connection(n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        seq = 0
        while (now := time.perf_counter()) < deadline:
            body = template.replace(PLACEHOLDER, f"{args.run_id}{phase.name[0]}{n}x{seq}".encode())
            seq += 1
            status = await _post(reader, writer, head, body)
            done = time.perf_counter()
            phase.acked += args.batch if status == 204 else 0
            if now < warm_until:
                continue
            if status == 204:
                phase.events += args.batch
                phase.latencies.append(done - now)
                phase.done_at.append(done - warm_until)
            else:
                phase.errors += 1
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(connection(n) for n in range(args.connections)))
    phase.seconds = time.perf_counter() - warm_until


def sample_rss(pid: int, phase: Phase, stop: threading.Event) -> None:
    proc = psutil.Process(pid)
    while not stop.is_set():
        try:
            phase.peak_rss = max(phase.peak_rss, proc.memory_info().rss)
        except psutil.Error:
            return
        stop.wait(0.05)


def server_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of the server process and of its main (event-loop) thread."""
    proc = psutil.Process(pid)
    times = proc.cpu_times()
    loop = next((t.user_time + t.system_time for t in proc.threads() if t.id == pid), 0.0)
    return times.user + times.system, loop


def writer_stats(port: int) -> tuple[float, float, float]:
    """(commits, events committed, seconds spent committing) from the server's /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    commits = events = seconds = 0.0
    for line in text.splitlines():
        if line.startswith("workmeter_commits_total"):
            commits += float(line.split()[-1])
        elif line.startswith("workmeter_events_total"):
            events += float(line.split()[-1])
        elif line.startswith("workmeter_commit_duration_seconds_sum"):
            seconds += float(line.split()[-1])
    return commits, events, seconds


def run_phase(pid: int, port: int, path: str, key: str, name: str, args: argparse.Namespace) -> Phase:
    phase = Phase(name)
    stop = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(pid, phase, stop))
    sampler.start()
    w0, s0, c0 = writer_stats(port), server_cpu(pid), time.process_time()
    # CPU is counted over the warm-up too (a small overstatement of the cost per event)
    asyncio.run(_drive(port, path, key, phase, args))
    w1, s1, c1 = writer_stats(port), server_cpu(pid), time.process_time()
    stop.set()
    sampler.join()
    phase.server_cpu, phase.loop_cpu = s1[0] - s0[0], s1[1] - s0[1]
    phase.client_cpu = c1 - c0
    phase.commits, phase.committed, phase.commit_seconds = (b - a for a, b in zip(w0, w1, strict=True))
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
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per phase (60 for the target)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--skip-discard", action="store_true", help="run the durable phase only")
    parser.add_argument("--db-threads", type=int, default=0,
                        help="the server's --db-threads (0: DuckDB's default, one per core)")
    parser.add_argument("--db", default=None, help="DuckDB file (default: a fresh temporary one)")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.db, args.batch, args.db_threads)
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
    threads = ["--db-threads", str(args.db_threads)] if args.db_threads else []
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--db", db, "--batch", str(args.batch),
                             *threads], env=env)
    phases = []
    try:
        wait_ready(port, proc)
        if not args.skip_discard:
            phases.append(run_phase(proc.pid, port, "/bench/discard", key, "discard", args))
        phases.append(run_phase(proc.pid, port, "/api/v1/events", key, "durable", args))
    finally:
        proc.terminate()
        proc.wait(120)
    with Workmeter.open(db) as wm:
        stored = wm.db.read().execute("SELECT count(*) FROM events").fetchone()[0]
    report(phases, args)
    acked = phases[-1].acked
    print(f"\nledger check: {stored:,} events stored, {acked:,} acknowledged "
          f"({'OK' if stored == acked else 'MISMATCH'})")


def slowest_window(phase: Phase, width: float = 10.0) -> float:
    """Events/s of the slowest full ``width``-second window (the rate sustained throughout)."""
    if phase.seconds < width:
        return phase.events / phase.seconds if phase.seconds else 0.0
    per_window: dict[int, int] = {}
    for t in phase.done_at:
        per_window[int(t // width)] = per_window.get(int(t // width), 0) + 1
    full = int(phase.seconds // width)
    return min(per_window.get(w, 0) for w in range(full)) * phase.events / max(len(phase.done_at), 1) / width


def report(phases: list[Phase], args: argparse.Namespace) -> None:
    print(f"\nHTTP ingest, {args.batch}-event batches, {args.connections} connections, "
          f"{args.duration:.0f} s per phase (+{args.warmup:.0f} s warm-up), "
          f"server --db-threads {args.db_threads or 'default'}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'endpoint':<28}{'events/s':>10}{'min 10s':>10}{'p50 ms':>8}{'p99 ms':>8}{'RSS MiB':>8}"
          f"{'errors':>7}  CPU s: server (loop / other) client")
    for p in phases:
        lat = sorted(p.latencies) or [0.0]
        p99 = statistics.quantiles(lat, n=100)[98] if len(lat) > 1 else lat[0]
        label = "/bench/discard (parse only)" if p.name == "discard" else "/api/v1/events (durable)"
        print(f"{label:<28}{p.events / p.seconds:>10,.0f}{slowest_window(p):>10,.0f}"
              f"{statistics.median(lat) * 1000:>8.0f}{p99 * 1000:>8.0f}{p.peak_rss / 2**20:>8.0f}{p.errors:>7}"
              f"  {p.server_cpu:.1f} ({p.loop_cpu:.1f} / {p.server_cpu - p.loop_cpu:.1f}) {p.client_cpu:.1f}")
        per_event = p.server_cpu / p.acked * 1e6 if p.acked else 0.0
        print(f"{'':<28}server CPU {per_event:.1f} us/event ({1e6 / per_event if per_event else 0:,.0f} "
              f"events per CPU-second), client {p.client_cpu / max(p.acked, 1) * 1e6:.1f} us/event")
        if p.commits:
            print(f"{'':<28}group commits: {p.commits:,.0f}, {p.committed / p.commits:,.0f} events each, "
                  f"{p.commit_seconds / p.commits * 1000:,.0f} ms each")


if __name__ == "__main__":
    main()
