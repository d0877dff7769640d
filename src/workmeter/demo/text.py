"""Arrow text assembly: JSON rows built from whole columns, never row by row.

A row is a concatenation of *pieces*: constants, decimal integers, lookups
into small tables of precomposed text, fixed-width hex ids, and optional
groups (null where absent, skipped by the final join). Arrow's string
kernels do the work (and release the GIL).

Lookups fuse several categorical columns into one piece: only the
combinations that occur are composed (in Python, once per distinct
combination), and each row takes its combination's text.

Templates are tuples of constant text, :class:`Int` fields and :class:`Opt`
groups; :func:`pieces` turns one into pieces for given column values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Piece: TypeAlias = "str | pa.Array | pa.ChunkedArray"
_HEX2 = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), dtype=np.uint16).copy()


@dataclass(frozen=True)
class Int:
    """A JSON integer taken from the int64 column ``name``."""

    name: str


@dataclass(frozen=True)
class Opt:
    """Parts written only in rows where the boolean column ``name`` is true."""

    name: str
    parts: tuple[str | Int, ...]


Template = tuple[str | Int | Opt, ...]


def pieces(template: Template, values: Mapping[str, np.ndarray]) -> list[Piece]:
    """The pieces of ``template`` for the columns in ``values``."""
    out: list[Piece] = []
    for part in template:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Int):
            out.append(ints(values[part.name]))
        else:
            present = np.asarray(values[part.name], dtype=bool)
            if present.any():
                out += group(pieces(part.parts, values), present)
    return out


def constant_strings(text: str, n: int) -> pa.StringArray:
    """``n`` copies of ``text`` as a string array (no per-row work)."""
    data = text.encode() * n
    offsets = np.arange(n + 1, dtype=np.int32) * len(text.encode())
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def join(pieces: Sequence[Piece]) -> pa.Array:
    """Concatenate the pieces row by row; null pieces (absent groups) are left out."""
    merged: list[Piece] = []
    for p in pieces:
        last = merged[-1] if merged else None
        if isinstance(p, str) and isinstance(last, str):
            merged[-1] = last + p
        else:
            merged.append(p)
    args = [pa.scalar(p) if isinstance(p, str) else p for p in merged]
    return pc.binary_join_element_wise(*args, "", null_handling="skip")


def group(pieces: Sequence[Piece], present: np.ndarray) -> list[Piece]:
    """An optional run of pieces: each one null where not ``present`` (the join then skips them)."""
    if present.all():
        return list(pieces)
    absent = pa.array(~present)
    null = pa.scalar(None, pa.string())
    out: list[Piece] = []
    for p in pieces:
        if isinstance(p, str):
            out.append(lookup([p], np.where(present, 0, -1)))
        else:
            out.append(pc.if_else(absent, null, p))
    return out


def ints(values: np.ndarray) -> pa.Array:
    """Decimal text of int64 values."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def lookup(texts: Sequence[str] | pa.Array, codes: np.ndarray) -> pa.Array:
    """``texts[code]`` per row; a negative code gives null."""
    codes = np.asarray(codes)
    index = pa.array(codes.astype(np.int32), mask=codes < 0) if (codes < 0).any() else pa.array(codes.astype(np.int32))
    table = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
    return table.take(index)


_MEMO: dict[str, dict[int, str]] = {}
_MEMO_LIMIT = 1_000_000


def fused(columns: Sequence[tuple[np.ndarray, int]], compose: Callable[..., str], memo: str | None = None) -> pa.Array:
    """One text per row from several small-integer columns ``(values, radix)``.

    ``compose(*codes)`` is called once per distinct combination that occurs
    (and, with a ``memo`` name, once per process: same name, same compose).
    """
    code = np.zeros(len(columns[0][0]), dtype=np.int64)
    space = 1
    for values, radix in columns:
        code = code * radix + np.asarray(values, dtype=np.int64)
        space *= radix
    if space <= 4_000_000:
        present = np.flatnonzero(np.bincount(code, minlength=space))
        dense = np.full(space, -1, dtype=np.int64)
        dense[present] = np.arange(len(present))
        index = dense[code]
    else:
        present, index = np.unique(code, return_inverse=True)
    cache = _MEMO.setdefault(memo, {}) if memo else {}
    if len(cache) > _MEMO_LIMIT:
        cache.clear()
    missing = [int(c) for c in present if int(c) not in cache] if cache else [int(c) for c in present]
    if missing:
        digits = _decode(np.array(missing, dtype=np.int64), [r for _, r in columns])
        for c, args in zip(missing, zip(*digits, strict=True), strict=True):
            cache[c] = compose(*args)
    return lookup([cache[int(c)] for c in present], index)


def _decode(codes: np.ndarray, radices: list[int]) -> list[list[int]]:
    out = []
    for radix in reversed(radices):
        codes, digit = np.divmod(codes, radix)
        out.append(digit.tolist())
    return out[::-1]


def hex_text(n: int, parts: Sequence[str | np.ndarray]) -> pa.StringArray:
    """Fixed-width text: constants, and uint64 columns written as 16 lowercase hex digits."""
    widths = [len(p.encode()) if isinstance(p, str) else 16 for p in parts]
    width = sum(widths)
    buf = bytearray(n * width)
    rows = np.frombuffer(buf, dtype=np.uint8).reshape(n, width)
    at = 0
    for part, w in zip(parts, widths, strict=True):
        if isinstance(part, str):
            rows[:, at : at + w] = np.frombuffer(part.encode(), dtype=np.uint8)
        else:
            digits = _HEX2[np.asarray(part, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(n, 8)]
            rows[:, at : at + w] = digits.view(np.uint8).reshape(n, 16)
        at += w
    offsets = np.arange(n + 1, dtype=np.int64) * width
    if n * width >= 2**31:
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(buf))


def masked(array: pa.Array, present: np.ndarray) -> pa.Array:
    """``array`` with nulls where not ``present``."""
    if present.all():
        return array
    return pc.if_else(pa.array(present), array, pa.scalar(None, array.type))
