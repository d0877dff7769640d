"""CloudEvents envelopes around generated usage and task data, merged into one stream.

Rows are rendered per frame (one per usage format and kind of call, one for
task lifecycle events, one for outcomes), each in time order (calls follow
their tasks' start order, so they are nearly sorted), then interleaved in
batches ordered by their first time — the way several gateways and
collectors each deliver their own batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workmeter.demo.calls import BAD_KINDS, World
from workmeter.demo.formats import task_data, usage_data, usage_values
from workmeter.demo.ids import ids
from workmeter.demo.tasks import TASK_TYPES, Cols
from workmeter.demo.text import constant_strings, hex_text, lookup
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
    subjects = [customer_id(i) for i in range(world.customers)]
    return {
        "specversion": constant_strings("1.0", n),
        "id": hex_text(n, [ids(world.seed, "event", number)]),
        "source": lookup(SOURCES, source),
        "type": lookup(TYPES, type_code),
        "subject": lookup(subjects, customer),
        "time": render_times(time, offset),
    }


def usage_frames(rng: np.random.Generator, c: Cols, world: World, first: int) -> list[Frame]:
    """Frames of the usage events of calls ``c``, numbered from ``first``."""
    n = len(c["model"])
    c = dict(c, number=first + np.arange(n), offset=sample_offsets(rng, n))
    shape = np.minimum(c["format"], _BUCKETS)  # unknown formats are written like buckets
    if (np.diff(shape) < 0).any():
        raise AssertionError("calls must come grouped by usage format")
    bounds = np.cumsum(np.bincount(shape, minlength=len(FORMATS)))
    frames = []
    for code, (lo, hi) in enumerate(zip(bounds - np.bincount(shape, minlength=len(FORMATS)), bounds, strict=True)):
        if hi == lo:
            continue
        sub = {k: v[lo:hi] for k, v in c.items()}
        fmt = FORMATS[code]
        if code in (_OTEL, _BUCKETS):
            source = np.full(hi - lo, 2 if code == _OTEL else 3)
        else:
            source = (sub["customer"] % 3 == 0).astype(np.int64)
        cols = envelope(world, sub["number"], source, np.zeros(hi - lo, int), sub["customer"], sub["time"], sub["offset"])
        cols["data"] = usage_data(usage_values(sub, fmt), fmt, world.customers)
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
    for is_outcome in (False, True):
        rows = np.flatnonzero((ev["type"] == 4) == is_outcome)
        rows = rows[np.argsort(ev["time"][rows], kind="stable")]
        sub = {k: a[rows] for k, a in v.items()}
        cols = envelope(world, sub["number"], 4 + sub["workflow"], 1 + sub["type"], sub["customer"], sub["time"], sub["offset"])
        cols["data"] = task_data(sub, world.customers, is_outcome)
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
