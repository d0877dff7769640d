"""Time in the demo: when traffic happens, and how the times are written.

Traffic follows office hours (a European peak around 10:00 UTC and an
American one around 16:00 UTC), drops to a third at weekends, and grows by a
quarter over the period. Times are written as RFC 3339 with milliseconds and
an explicit offset: mostly ``Z``, some ``+02:00`` and ``-05:00`` (the same
instant, in local time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np
import pyarrow as pa

from workmeter.demo.text import join, lookup

MS_HOUR = 3_600_000
MS_DAY = 24 * MS_HOUR
#: (suffix, offset in ms, share of events)
OFFSETS: tuple[tuple[str, int, float], ...] = (("Z", 0, 0.85), ("+02:00", 2 * MS_HOUR, 0.12), ("-05:00", -5 * MS_HOUR, 0.03))
#: Invalid times carried by bad events (cycled).
BAD_TIMES: tuple[str, ...] = (
    "2026-02-30T10:00:00Z",  # no such day
    "2026-10-03 14:22:05",  # no T, no offset
    "2026-10-03T14:22:05",  # no offset
    "yesterday",
    "",
)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def hour_weights(start_ms: int, days: int) -> np.ndarray:
    """Relative traffic for each hour of the period."""
    hours = np.arange(days * 24)
    stamp = start_ms // MS_HOUR + hours
    hour_of_day = stamp % 24
    weekday = (stamp // 24 + 3) % 7  # 1970-01-01 was a Thursday (3)
    office = 0.15 + np.exp(-(((hour_of_day - 10) / 3.0) ** 2)) + 0.9 * np.exp(-(((hour_of_day - 16) / 3.0) ** 2))
    weekend = np.where(weekday >= 5, 0.3, 1.0)
    growth = 1.0 + 0.25 * hours / max(1, len(hours))
    w = office * weekend * growth
    return w / w.sum()


def sample_times(rng: np.random.Generator, n: int, start_ms: int, weights: np.ndarray) -> np.ndarray:
    """``n`` instants (ms) drawn with the traffic shape ``weights``."""
    slot = rng.choice(len(weights), size=n, p=weights)
    return start_ms + slot.astype(np.int64) * MS_HOUR + rng.integers(0, MS_HOUR, size=n)


def sample_offsets(rng: np.random.Generator, n: int) -> np.ndarray:
    """An offset code per event (index into :data:`OFFSETS`)."""
    p = np.array([o[2] for o in OFFSETS])
    return rng.choice(len(OFFSETS), size=n, p=p / p.sum()).astype(np.int64)


@lru_cache(maxsize=1)
def _seconds() -> pa.Array:
    """``:ss.mmm`` for every millisecond of a minute."""
    return pa.array([f":{ms // 1000:02d}.{ms % 1000:03d}" for ms in range(60_000)], pa.string())


@lru_cache(maxsize=1024)
def _day(day: int) -> pa.Array:
    """``YYYY-MM-DDThh:mm`` for each minute of day ``day`` after the epoch."""
    date = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)).strftime("%Y-%m-%dT")
    return pa.array([f"{date}{m // 60:02d}:{m % 60:02d}" for m in range(1440)], pa.string())


def render_times(ms: np.ndarray, offset: np.ndarray) -> pa.Array:
    """RFC 3339 text of each instant, written in the offset's local time."""
    if len(ms) == 0:
        return pa.array([], pa.string())
    local = ms + np.array([o[1] for o in OFFSETS], dtype=np.int64)[offset]
    minute = local // 60_000
    first, last = int(minute.min()) // 1440, int(minute.max()) // 1440
    minutes = pa.concat_arrays([_day(d) for d in range(first, last + 1)])
    return join([lookup(minutes, minute - first * 1440), lookup(_seconds(), local % 60_000),
                 lookup([o[0] for o in OFFSETS], offset)])


@dataclass(frozen=True)
class Period:
    """The half-open window ``[start_ms, end_ms)`` events fall in, with its traffic shape."""

    start_ms: int
    end_ms: int
    weights: np.ndarray

    @classmethod
    def of(cls, start: datetime, days: int) -> Period:
        start_ms = epoch_ms(start)
        return cls(start_ms, start_ms + days * MS_DAY, hour_weights(start_ms, days))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return sample_times(rng, n, self.start_ms, self.weights)
