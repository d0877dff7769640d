"""Generate realistic CloudEvents traffic as Arrow tables, fast.

``generate_table(n_events, seed, start)`` returns exactly ``n_events`` rows.
What they contain is fixed by :func:`plan` (exact counts, a function of
``n_events`` and the fractions only) and, for the mix of valid events, by
the seed (the counts are stored in the table's metadata, see
:func:`counts_of`). Per chunk of at most :data:`CHUNK_EVENTS` events:

- ``rejected``: ``round(n × bad_fraction)`` bad usage events, split evenly
  (remainder to the first kinds) over :data:`~workmeter.demo.calls.BAD_KINDS`;
- ``conflicts``: ``round(n × conflict_fraction)`` copies of valid usage
  events with the same ``source`` and ``id`` but a different output count
  (or, when no such event exists, an extra attribute);
- ``duplicates``: ``round(n × dup_fraction)`` exact re-sends of valid
  events (usage or task), each of a different original;
- ``accepted``: everything else, each (source, id) once: task lifecycle
  events (see :mod:`~workmeter.demo.tasks`; about one task per ten events)
  and usage events (about 90% inside a task, the rest ad hoc).

Re-sends and conflicts come after all originals, in random order.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workmeter.demo.calls import BAD_KINDS, World, adhoc_calls, bad_calls, task_calls
from workmeter.demo.events import SCHEMA, Frame, flags, merge, take_rows, task_frames, usage_frames
from workmeter.demo.ids import ids
from workmeter.demo.tasks import (
    ABANDONED,
    COMPLETED,
    FAILED,
    REOPENED,
    SILENT,
    TASK_TYPES,
    draw_tasks,
    lifecycle,
)
from workmeter.demo.timeline import Period
from workmeter.demo.world import MODELS

CHUNK_EVENTS = 500_000
#: How far below the consumer's priority the builder threads of :func:`iter_chunks` run.
BUILDER_NICENESS = 3
EVENTS_PER_TASK = 10
ADHOC_SHARE = 0.1
METADATA_KEY = b"workmeter.demo.counts"
_OUTPUT = r'("(?:output_tokens|gen_ai\.usage\.output_tokens|output)":)(\d+)'


@dataclass(frozen=True)
class Plan:
    """Exact counts of one chunk, fixed before anything is drawn."""

    events: int
    rejected: dict[str, int]
    conflicts: int
    duplicates: int
    accepted: int


def plan(n_events: int, bad_fraction: float = 0.002, dup_fraction: float = 0.01,
         conflict_fraction: float = 0.001) -> Plan:
    """How ``n_events`` (one chunk) splits into bad, conflicting, duplicate and accepted events."""
    n_bad = min(n_events, round(n_events * bad_fraction))
    per, extra = divmod(n_bad, len(BAD_KINDS))
    rejected = {kind: per + (i < extra) for i, kind in enumerate(BAD_KINDS)}
    rest = n_events - n_bad
    n_conf = min(round(n_events * conflict_fraction), rest // 4)
    n_dup = min(round(n_events * dup_fraction), rest // 4)
    return Plan(n_events, rejected, n_conf, n_dup, rest - n_conf - n_dup)


@dataclass
class Counts:
    """What a generated table holds; the ledger's ingest report must match the first four."""

    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    rejected_by_kind: dict[str, int] = field(default_factory=dict)
    usage: int = 0  # accepted llm.usage events
    task_events: dict[str, int] = field(default_factory=dict)  # accepted, by type
    tasks: dict[str, int] = field(default_factory=dict)  # by final status, plus subtasks / outcomes / reopened
    usage_by_model: dict[str, int] = field(default_factory=dict)  # accepted llm.usage events per model

    def add(self, other: Counts) -> None:
        for name in ("accepted", "duplicates", "conflicts", "rejected", "usage"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("rejected_by_kind", "task_events", "tasks", "usage_by_model"):
            mine = getattr(self, name)
            for k, v in getattr(other, name).items():
                mine[k] = mine.get(k, 0) + v


def counts_of(table: pa.Table) -> Counts:
    """The counts stored in a generated table's metadata."""
    raw = json.loads((table.schema.metadata or {})[METADATA_KEY])
    return Counts(**raw)


def chunk_sizes(n_events: int, chunk: int = CHUNK_EVENTS) -> list[int]:
    return [min(chunk, n_events - lo) for lo in range(0, n_events, chunk)] if n_events > 0 else []


def generate_table(n_events: int, seed: int, start: datetime, days: int = 30, customers: int = 50,
                   bad_fraction: float = 0.002, dup_fraction: float = 0.01,
                   conflict_fraction: float = 0.001) -> pa.Table:
    """``n_events`` CloudEvents rows (see the module docs for what they are)."""
    tables = list(iter_chunks(n_events, seed, start, days, customers, bad_fraction, dup_fraction, conflict_fraction))
    if len(tables) == 1:
        return tables[0]
    total = Counts()
    for t in tables:
        total.add(counts_of(t))
    merged = pa.concat_tables([t.replace_schema_metadata(None) for t in tables]) if tables else SCHEMA.empty_table()
    return merged.replace_schema_metadata({METADATA_KEY: json.dumps(asdict(total))})


def iter_chunks(n_events: int, seed: int, start: datetime, days: int = 30, customers: int = 50,
                bad_fraction: float = 0.002, dup_fraction: float = 0.01, conflict_fraction: float = 0.001,
                chunk: int = CHUNK_EVENTS, workers: int = 1) -> Iterator[pa.Table]:
    """The same events as :func:`generate_table`, one table per chunk (bounded memory).

    Chunks are independent (each has its own seed and id range), so with
    ``workers`` > 1 they are built in that many threads (Arrow and numpy
    release the GIL) and still come out in order, identical to ``workers=1``.
    Those threads run :data:`BUILDER_NICENESS` steps below the caller's
    priority (Linux), so a consumer that writes each chunk as it comes keeps
    up instead of falling behind: what is left to write after the last chunk
    is built is then one chunk, not several.
    """
    world = World.of(seed, Period.of(start, days), customers)
    jobs = []
    offset = 0
    for i, size in enumerate(chunk_sizes(n_events, chunk)):
        jobs.append((np.random.default_rng([seed, i]), plan(size, bad_fraction, dup_fraction, conflict_fraction),
                     world, offset))
        offset += size
    if workers <= 1:
        for job in jobs:
            yield _chunk(*job)
        return
    with ThreadPoolExecutor(workers, initializer=_below_consumer) as pool:
        pending: deque[Future[pa.Table]] = deque()
        for job in jobs:
            pending.append(pool.submit(_chunk, *job))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _below_consumer() -> None:
    """Lower this builder thread's priority (a thread's own nice value on Linux; elsewhere nothing)."""
    if sys.platform != "linux" or BUILDER_NICENESS <= 0:
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + BUILDER_NICENESS)


def _chunk(rng: np.random.Generator, p: Plan, world: World, offset: int) -> pa.Table:
    n_tasks = p.accepted // EVENTS_PER_TASK
    t = draw_tasks(rng, n_tasks, world.period, world.customers)
    t["id"] = ids(world.seed, "task", offset + np.arange(n_tasks))
    ev = lifecycle(rng, t, world.period)
    n_usage = p.accepted - len(ev["task"])
    n_adhoc = round(n_usage * ADHOC_SHARE) if n_tasks else n_usage
    parts = [task_calls(rng, t, n_usage - n_adhoc, world)] if n_tasks else []
    parts += [adhoc_calls(rng, n_adhoc, world), bad_calls(rng, p.rejected, world)]
    frames, first = [], offset
    for calls in parts:
        calls.setdefault("bad", np.full(len(calls["model"]), -1))
        task = calls["task"]
        calls["task_id"] = t["id"][np.maximum(task, 0)] if n_tasks else np.zeros(len(task), np.uint64)
        calls["prompt_hash"] = ids(world.seed, "prompt", first + calls["base"])
        frames += usage_frames(rng, calls, world, first)
        first += len(task)
    frames += task_frames(rng, t, ev, world, first)
    batch = int(np.clip(p.events // (2 * len(world.period.weights)), 16, 1024))
    table = pa.concat_tables([merge(frames, batch), _anomalies(rng, frames, p)])
    counts = _counts(p, t, ev, parts)
    return table.replace_schema_metadata({METADATA_KEY: json.dumps(asdict(counts))})


def _anomalies(rng: np.random.Generator, frames: list[Frame], p: Plan) -> pa.Table:
    """The conflicting copies and exact re-sends, in random order."""
    f = flags(frames)
    good = np.flatnonzero(f["good"])
    candidates = np.flatnonzero(f["good"] & f["usage"] & f["conflictable"])
    by_tokens = len(candidates) >= p.conflicts
    conf = rng.choice(candidates if by_tokens else good, p.conflicts, replace=False)
    unused = f["good"].copy()
    unused[conf] = False
    dup = rng.choice(np.flatnonzero(unused), p.duplicates, replace=False)
    copies = take_rows(frames, conf)
    if by_tokens:
        data = pc.replace_substring_regex(copies["data"], _OUTPUT, r"\1\27", max_replacements=1)
    else:
        data = pc.replace_substring(copies["data"], '"attributes":{', '"attributes":{"resent":"true",', max_replacements=1)
    copies = copies.set_column(copies.schema.get_field_index("data"), "data", data)
    extra = pa.concat_tables([take_rows(frames, dup), copies])
    return extra.take(pa.array(rng.permutation(extra.num_rows)))


def _counts(p: Plan, t: dict[str, np.ndarray], ev: dict[str, np.ndarray], parts: list[dict[str, np.ndarray]]) -> Counts:
    calls = {k: np.concatenate([part[k] for part in parts]) for k in ("bad", "model", "task", "retry")}
    good = calls["bad"] < 0
    status = np.bincount(t["status"], minlength=4)
    outcome = ev["type"] == 4
    reopened = outcome & (ev["outcome"] == REOPENED)
    by_model = np.bincount(calls["model"][good], minlength=len(MODELS))
    return Counts(
        accepted=p.accepted, duplicates=p.duplicates, conflicts=p.conflicts,
        rejected=sum(p.rejected.values()), rejected_by_kind=dict(p.rejected),
        usage=int(good.sum()),
        task_events={name: int((ev["type"] == i).sum()) for i, name in enumerate(TASK_TYPES)},
        tasks={
            "total": len(t["status"]), "completed": int(status[COMPLETED]), "failed": int(status[FAILED]),
            "abandoned": int(status[ABANDONED]), "abandoned_silently": int(status[SILENT]),
            "subtasks": int((t["parent"] >= 0).sum()), "outcomes": int((outcome & ~reopened).sum()),
            "reopened": int(reopened.sum()), "usage_in_tasks": int((good & (calls["task"] >= 0)).sum()),
            "usage_adhoc": int((good & (calls["task"] < 0)).sum()), "retries": int(calls["retry"][good].sum()),
        },
        usage_by_model={m.name: int(by_model[i]) for i, m in enumerate(MODELS)},
    )
