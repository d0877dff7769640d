"""Identifiers for generated events, tasks and prompts.

An id is a bijective 64-bit mix of a running number, so ids never collide
within one generation run (every number is used once) and look random.
Each kind of id and each seed gets its own key, so event ids of different
seeds are unrelated.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer: a bijection on uint64."""
    z = x.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


def key(seed: int, kind: str) -> np.uint64:
    """A per-seed, per-kind key mixed into every number before hashing."""
    salt = sum(ord(c) << (8 * (i % 8)) for i, c in enumerate(kind))
    return mix64(np.array([(seed * 0x9E3779B97F4A7C15 + salt) % 2**64], dtype=np.uint64))[0]


def ids(seed: int, kind: str, numbers: np.ndarray) -> np.ndarray:
    """Distinct uint64 ids for distinct ``numbers`` (uint64/int64 ≥ 0)."""
    return mix64(numbers.astype(np.uint64) ^ key(seed, kind))
