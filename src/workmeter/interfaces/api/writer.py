"""Group commit: one writer thread, a bounded queue, one transaction per batch.

Requests hand their events (JSON texts, or objects; made an Arrow string array on the
request's thread) to
:meth:`GroupCommitWriter.submit` and await the returned future. The writer
thread takes every queued request of the same origin (up to
``max_batch_events`` events and ``max_batch_bytes`` of request bodies), calls
``ledger.ingest_texts`` ONCE for all of them (one DuckDB transaction) and only then
resolves each request's future with its own slice of the results. So:

* a request is answered 2xx only after its events are committed;
* concurrent requests share one transaction (throughput grows with load): the
  requests that arrive while one group commits form the next group, so the
  ledger's fixed cost per transaction is shared by more events as load grows;
* a commit about to start waits a little (at most ``max_linger`` seconds) while
  requests are still being read (:meth:`GroupCommitWriter.arriving`) and until
  as many requests arrived since the last commit as it answered: clients
  answered together send again together, and their requests then commit
  together instead of splitting into alternating small and large groups;
* when more than ``max_queued_events`` wait, :meth:`submit` raises
  :class:`~workmeter.core.errors.Overloaded` (→ 429 + ``Retry-After``);
* :meth:`close` stops taking work, drains what is queued, then returns.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from workmeter.core.errors import Overloaded, StorageError, WorkmeterError
from workmeter.interfaces.api.metrics import Registry
from workmeter.ledger.ingest import as_text_array

log = logging.getLogger("workmeter.writer")

STATUSES: tuple[str, ...] = ("accepted", "duplicate", "conflict", "rejected")


@dataclass
class Outcome:
    """What happened to one request's events (results only when asked for)."""

    counts: dict[str, int]
    results: list[dict[str, Any]] | None = None


@dataclass
class _Job:
    events: pa.Array  # the request's events as JSON texts (built on the request's own thread)
    nbytes: int
    origin: str
    with_results: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Outcome] = field(repr=False)


def _resolve(fut: asyncio.Future[Outcome], value: Outcome | BaseException) -> None:
    if fut.done():
        return
    if isinstance(value, BaseException):
        fut.set_exception(value)
    else:
        fut.set_result(value)


class GroupCommitWriter:
    def __init__(self, ledger: Any, metrics: Registry, *, max_queued_events: int = 200_000,
                 max_batch_events: int = 100_000, max_batch_bytes: int = 64 * 1024 * 1024,
                 max_linger: float = 0.025) -> None:
        self.ledger = ledger
        self.metrics = metrics
        self.max_queued_events = max_queued_events
        self.max_batch_events = max_batch_events
        self.max_batch_bytes = max_batch_bytes
        self.max_linger = max_linger
        self._jobs: deque[_Job] = deque()
        self._queued = 0
        self._arriving = 0
        self._submitted = 0
        self._closing = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="workmeter-writer", daemon=True)
        metrics.gauge("workmeter_writer_queue_events", "Events waiting for the writer.", lambda: self._queued)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._closing

    @property
    def queued_events(self) -> int:
        return self._queued

    def submit(self, events: list[Any], *, origin: str = "api", with_results: bool = False,
               nbytes: int = 0) -> asyncio.Future[Outcome]:
        """Queue events for the next commit; await the future for the outcome.

        ``nbytes``: the size of the request body they came in (bounds a group's memory).
        """
        loop = asyncio.get_running_loop()
        job = _Job(as_text_array(events), nbytes, origin, with_results, loop, loop.create_future())
        with self._cond:
            if self._closing:
                raise Overloaded("the server is shutting down", where="writer")
            if self._queued and self._queued + len(events) > self.max_queued_events:
                raise Overloaded(f"write queue full ({self._queued} events waiting)", where="writer")
            self._jobs.append(job)
            self._queued += len(events)
            self._submitted += 1
            self._cond.notify()
        return job.future

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Around reading, parsing and submitting one request: a commit about to start waits for it."""
        with self._cond:
            self._arriving += 1
        try:
            yield
        finally:
            with self._cond:
                self._arriving -= 1
                self._cond.notify()

    def close(self, timeout: float = 60.0) -> None:
        """Refuse new work, commit everything queued, stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _take(self, expected: int) -> list[_Job] | None:
        """The next group; ``expected``: submissions awaited (the requests the last commit answered)."""
        with self._cond:
            while not self._jobs and not self._closing:
                self._cond.wait()
            if not self._jobs:
                return None
            deadline = time.monotonic() + self.max_linger
            while (self._arriving or self._submitted < expected) and not self._closing \
                    and self._queued < self.max_batch_events and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            batch = [self._jobs.popleft()]
            size, nbytes = len(batch[0].events), batch[0].nbytes
            while self._jobs and self._jobs[0].origin == batch[0].origin \
                    and size + len(self._jobs[0].events) <= self.max_batch_events \
                    and nbytes + self._jobs[0].nbytes <= self.max_batch_bytes:
                job = self._jobs.popleft()
                batch.append(job)
                size += len(job.events)
                nbytes += job.nbytes
            return batch

    def _run(self) -> None:
        expected = 0
        while (batch := self._take(expected)) is not None:
            try:
                self._commit(batch)
            finally:
                with self._cond:
                    self._queued -= sum(len(j.events) for j in batch)
                    expected = self._submitted + len(batch)  # the answered requests, sent again

    def _commit(self, batch: list[_Job]) -> None:
        events = pa.chunked_array([job.events for job in batch], pa.string())
        with_results = _wanted(batch)
        started = time.perf_counter()
        try:
            report = self.ledger.ingest_texts(events, origin=batch[0].origin, with_results=with_results)
        except Exception as exc:  # every waiting request learns of the failure; nothing was committed
            log.exception("commit failed", extra={"events": len(events)})
            failure = exc if isinstance(exc, WorkmeterError) else \
                StorageError(f"the ledger could not commit this batch ({type(exc).__name__}); retry it")
            for job in batch:
                job.loop.call_soon_threadsafe(_resolve, job.future, failure)
            return
        self.metrics.observe("workmeter_commit_duration_seconds", time.perf_counter() - started)
        self.metrics.inc("workmeter_commits_total")
        totals = {"accepted": report.accepted, "duplicate": report.duplicates,
                  "conflict": report.conflicts, "rejected": report.rejected}
        for status, n in totals.items():
            if n:
                self.metrics.inc("workmeter_events_total", n, origin=batch[0].origin, status=status)
        outcomes = self._split(batch, report.results if with_results else None, totals)
        for job, outcome in zip(batch, outcomes, strict=True):
            job.loop.call_soon_threadsafe(_resolve, job.future, outcome)

    @staticmethod
    def _split(batch: list[_Job], results: Sequence[Any] | None, totals: dict[str, int]) -> list[Outcome]:
        """Hand each request that asked for results its own, positions made relative to its own body.

        A request that did not ask gets no per-event work (its group may hold requests that did).
        """
        if results is None:
            if len(batch) == 1:
                return [Outcome(totals)]
            return [Outcome({}) for _ in batch]
        ordered = sorted(results, key=_position)
        outcomes, offset = [], 0
        for job in batch:
            end = offset + len(job.events)
            if job.with_results:
                lo = bisect.bisect_left(ordered, offset, key=_position)
                hi = bisect.bisect_left(ordered, end, lo=lo, key=_position)
                rows = [{"position": r.position - offset, "source": r.source, "id": r.id,
                         "status": r.status, "reason": r.reason} for r in ordered[lo:hi]]
                counts = dict.fromkeys(STATUSES, 0)
                for row in rows:
                    counts[row["status"]] += 1
                outcomes.append(Outcome(counts, rows))
            else:
                outcomes.append(Outcome({}))
            offset = end
        return outcomes


def _wanted(batch: list[_Job]) -> bool | list[tuple[int, int]]:
    """The results the group needs: none, or the position ranges of the requests that asked
    (a single event posted beside 40k batched ones does not make the ledger list them all)."""
    ranges, offset = [], 0
    for job in batch:
        if job.with_results:
            ranges.append((offset, offset + len(job.events)))
        offset += len(job.events)
    if not ranges:
        return False
    return True if len(ranges) == len(batch) else ranges


def _position(result: Any) -> int:
    return int(result.position)
