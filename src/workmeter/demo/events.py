"""CloudEvents envelopes around generated usage and task data, merged into one stream.

Rows are rendered per template (one per usage format, one for task
lifecycle events, one for outcomes), each sorted by time, then interleaved
in batches of :data:`BATCH` rows ordered by their first time — the way
several gateways and collectors each deliver their own batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workmeter.demo.calls import BAD_KINDS, World
from workmeter.demo.formats import WORKFLOW, people, quoted, template, usage_values
from workmeter.demo.ids import ids
from workmeter.demo.render import Cat, Hex, Opt, Part, constant_strings, render
from workmeter.demo.tasks import OUTCOMES, REASONS, TASK_TYPES, VALUES, Cols
from workmeter.demo.timeline import BAD_TIMES, render_times, sample_offsets
from workmeter.demo.world import FORMATS, WORKFLOWS, customer_id

BATCH = 512
COLUMNS: tuple[str, ...] = ("specversion", "id", "source", "type", "subject", "time", "data")
SCHEMA = pa.schema([(name, pa.string()) for name in COLUMNS])
SOURCES: tuple[str, ...] = (
    "/gateway/us-east-1", "/gateway/eu-west-1", "/otel/collector", "/import/usage-buckets",
    *(f"/agents/{w.name}" for w in WORKFLOWS),
)
TYPES: tuple[str, ...] = ("llm.usage", *TASK_TYPES)
_OTEL, _BUCKETS = FORMATS.index("otel"), FORMATS.index("buckets")

_TASK_HEAD: tuple[Part, ...] = (
    '{"task_id":', Hex("task_id", "tsk_"), ',"workflow":', WORKFLOW,
    Opt("has_parent", (',"parent_task_id":', Hex("parent_id", "tsk_"))),
)
_LIFECYCLE: tuple[Part, ...] = (*_TASK_HEAD, Opt("has_reason", (',"reason":', Cat("reason", quoted(REASONS)))), ",")
_OUTCOME: tuple[Part, ...] = (
    *_TASK_HEAD, ',"outcome":', Cat("outcome", quoted(OUTCOMES)),
    Opt("has_value", (',"value":', Cat("value", quoted(VALUES)), ',"currency":"USD"')),
    ',"confirmed":', Cat("confirmed", ("false", "true")), ",",
)


@dataclass
class Frame:
    """Rendered rows of one template, in time order, with what each row is."""

    columns: dict[str, pa.Array]
    time: np.ndarray
    usage: bool  # rows are llm.usage events
    good: np.ndarray  # row is a valid event (not a deliberately bad one)
    conflictable: bool  # an output count can change without breaking a total


def envelope(world: World, number: np.ndarray, source: np.ndarray, type_code: np.ndarray,
             customer: np.ndarray, time: np.ndarray, offset: np.ndarray) -> dict[str, pa.Array]:
    """The CloudEvents attributes of each row (``data`` is added by the caller)."""
    n = len(number)
    subjects = tuple(customer_id(i) for i in range(world.customers))
    return {
        "specversion": constant_strings("1.0", n),
        "id": render([Hex("id", "", quoted=False)], n, {"id": ids(world.seed, "event", number)}),
        "source": render([Cat("source", SOURCES)], n, {"source": source}),
        "type": render([Cat("type", TYPES)], n, {"type": type_code}),
        "subject": render([Cat("subject", subjects)], n, {"subject": customer}),
        "time": render_times(time, offset),
    }


def usage_frames(rng: np.random.Generator, c: Cols, world: World, first: int) -> list[Frame]:
    """Frames of the usage events of calls ``c``, numbered from ``first``."""
    n = len(c["model"])
    c = dict(c, number=first + np.arange(n), offset=sample_offsets(rng, n))
    shape = np.where(c["format"] >= len(FORMATS), _BUCKETS, c["format"])
    order = np.argsort((shape << 42) | (c["time"] - world.period.start_ms))
    c = {k: v[order] for k, v in c.items() if k not in ("retry", "base")}
    bounds = np.cumsum(np.bincount(shape, minlength=len(FORMATS)))
    frames = []
    for code, (lo, hi) in enumerate(zip(bounds - np.bincount(shape, minlength=len(FORMATS)), bounds, strict=True)):
        if hi == lo:
            continue
        sub = {k: v[lo:hi] for k, v in c.items()}
        fmt = FORMATS[code]
        source = np.where(code == _OTEL, 2, np.where(code == _BUCKETS, 3, (sub["customer"] % 3 == 0).astype(int)))
        cols = envelope(world, sub["number"], source, np.zeros(hi - lo, int), sub["customer"], sub["time"], sub["offset"])
        cols["data"] = render(template(fmt, world.customers), hi - lo, usage_values(sub, fmt))
        _spoil(cols, sub["bad"])
        frames.append(Frame(cols, sub["time"], True, sub["bad"] < 0, fmt in ("anthropic", "otel", "buckets")))
    return frames


def _spoil(cols: dict[str, pa.Array], bad: np.ndarray) -> None:
    """Remove the subject / break the time of the bad rows that need it."""
    gone = bad == BAD_KINDS.index("missing_subject")
    if gone.any():
        cols["subject"] = pc.if_else(pa.array(gone), pa.scalar(None, pa.string()), cols["subject"])
    broken = bad == BAD_KINDS.index("bad_time")
    if broken.any():
        times = [BAD_TIMES[i % len(BAD_TIMES)] for i in range(int(broken.sum()))]
        cols["time"] = pc.replace_with_mask(cols["time"], pa.array(broken), pa.array(times, pa.string()))


def task_frames(rng: np.random.Generator, t: Cols, ev: Cols, world: World, first: int) -> list[Frame]:
    """Frames of the task lifecycle events ``ev`` of tasks ``t``, numbered from ``first``."""
    n = len(ev["task"])
    task = ev["task"]
    parent = t["parent"][task]
    v: Cols = {name: t[name][task] for name in ("customer", "team", "project", "user", "workflow")}
    v.update(ev)
    v["task_id"] = t["id"][task]
    v["parent_id"] = t["id"][np.maximum(parent, 0)]
    v["has_parent"] = parent >= 0
    v["has_workflow"] = np.zeros(n, bool)
    v["number"] = first + np.arange(n)
    v["offset"] = sample_offsets(rng, n)
    frames = []
    for is_outcome, head in ((False, _LIFECYCLE), (True, _OUTCOME)):
        rows = np.flatnonzero((ev["type"] == 4) == is_outcome)
        rows = rows[np.argsort(ev["time"][rows], kind="stable")]
        sub = {k: a[rows] for k, a in v.items()}
        cols = envelope(world, sub["number"], 4 + sub["workflow"], 1 + sub["type"], sub["customer"], sub["time"], sub["offset"])
        cols["data"] = render((*head, *people(world.customers)), len(rows), sub)
        frames.append(Frame(cols, sub["time"], False, np.ones(len(rows), bool), False))
    return frames


def merge(frames: list[Frame], batch: int = BATCH) -> pa.Table:
    """Interleave the frames' batches of ``batch`` rows by their first time (no copy: slices)."""
    keys, spans = [], []
    for f_i, frame in enumerate(frames):
        for lo in range(0, len(frame.time), batch):
            keys.append(frame.time[lo])
            spans.append((f_i, lo, min(lo + batch, len(frame.time))))
    order = np.argsort(np.array(keys, dtype=np.int64), kind="stable")
    picked = [spans[i] for i in order]
    arrays = {
        name: pa.chunked_array([frames[f].columns[name].slice(lo, hi - lo) for f, lo, hi in picked], pa.string())
        for name in COLUMNS
    }
    return pa.table(arrays, schema=SCHEMA)


def take_rows(frames: list[Frame], rows: np.ndarray) -> pa.Table:
    """Rows of the frames by position in their concatenation (frame by frame, then by row)."""
    starts = np.cumsum([0] + [len(f.time) for f in frames])
    which = np.searchsorted(starts, rows, side="right") - 1
    parts = []
    for f_i in np.flatnonzero(np.bincount(which, minlength=len(frames))):
        local = pa.array(rows[which == f_i] - starts[f_i])
        parts.append(pa.table({name: frames[f_i].columns[name].take(local) for name in COLUMNS}, schema=SCHEMA))
    return pa.concat_tables(parts) if parts else SCHEMA.empty_table()


def flags(frames: list[Frame]) -> dict[str, np.ndarray]:
    """Per row of the frames' concatenation: valid? a usage event? safe to give another output count?"""
    return {
        "good": np.concatenate([f.good for f in frames]),
        "usage": np.concatenate([np.full(len(f.time), f.usage) for f in frames]),
        "conflictable": np.concatenate([np.full(len(f.time), f.conflictable) for f in frames]),
    }


__all__ = ["COLUMNS", "SCHEMA", "SOURCES", "TYPES", "Frame", "flags", "merge", "take_rows", "task_frames", "usage_frames"]
