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

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Piece: TypeAlias = "str | pa.Array | pa.ChunkedArray"
_HEX2 = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), dtype=np.uint16).copy()
_V16 = np.arange(1 << 16, dtype=np.uint32)
#: The 4 hex digits of every 16-bit value, as the 4 ASCII bytes of a uint32.
_HEX4 = _HEX2[_V16 >> 8].astype(np.uint32) | (_HEX2[_V16 & 0xFF].astype(np.uint32) << 16)


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
            if present.all():
                out += pieces(part.parts, values)
            elif present.any():
                out.append(optional(part.parts, values, present))
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
    args = [scalar(p) if isinstance(p, str) else p for p in merged]
    return pc.binary_join_element_wise(*args, scalar(""), null_handling="skip")


@lru_cache(maxsize=4096)
def scalar(text: str) -> pa.Scalar:
    """``text`` as an Arrow string scalar, made once (pyarrow probes optional modules on each conversion)."""
    return pa.scalar(text, pa.string())


def optional(parts: tuple[str | Int, ...], values: Mapping[str, np.ndarray], present: np.ndarray) -> pa.Array:
    """The text of ``parts`` where ``present``, null elsewhere (the final join then skips it).

    The integers are written only where present, and one join that gives
    null for a row with a null piece assembles the group.
    """
    if not any(isinstance(p, Int) for p in parts):
        return masked(join(list(parts)), present)
    absent = ~present
    args = [scalar(p) if isinstance(p, str) else ints(values[p.name], absent) for p in parts]
    return pc.binary_join_element_wise(*args, scalar(""), null_handling="emit_null")


def ints(values: np.ndarray, absent: np.ndarray | None = None) -> pa.Array:
    """Decimal text of int64 values (null where ``absent``)."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64), mask=absent), pa.string())


def lookup(texts: Sequence[str] | pa.Array, codes: np.ndarray) -> pa.Array:
    """``texts[code]`` per row; a negative code gives null."""
    codes = np.asarray(codes)
    index = pa.array(codes.astype(np.int32), mask=codes < 0) if (codes < 0).any() else pa.array(codes.astype(np.int32))
    table = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
    return table.take(index)


@dataclass(frozen=True)
class _Texts:
    """The texts composed so far for one memo: ``table[where[code]]`` (``where`` is -1 for codes not seen yet)."""

    where: np.ndarray
    table: pa.Array


_MEMO: dict[tuple[str, int], _Texts] = {}
_MEMO_LOCK = threading.Lock()
_MEMO_LIMIT = 1_000_000
_DENSE_LIMIT = 4_000_000


def fused(columns: Sequence[tuple[np.ndarray, int]], compose: Callable[..., str], memo: str | None = None) -> pa.Array:
    """One text per row from several small-integer columns ``(values, radix)``.

    ``compose(*codes)`` is called once per distinct combination that occurs
    (and, with a ``memo`` name, once per process: same name, same compose;
    the composed texts then stay in one Arrow array that each call takes from).
    """
    code = np.zeros(len(columns[0][0]), dtype=np.int64)
    space = 1
    for values, radix in columns:
        code = code * radix + np.asarray(values, dtype=np.int64)
        space *= radix
    radices = [r for _, r in columns]
    if memo is None or space > _DENSE_LIMIT:
        present, rows = _distinct(code, space)
        return lookup(_compose(present, radices, compose), rows)
    texts = _MEMO.get((memo, space)) or _learn((memo, space), code, radices, compose)
    index = texts.where[code]
    if (index < 0).any():
        texts = _learn((memo, space), code, radices, compose)
        index = texts.where[code]
    return texts.table.take(pa.array(index))


def _learn(key: tuple[str, int], code: np.ndarray, radices: list[int], compose: Callable[..., str]) -> _Texts:
    """Add the texts of the codes in ``code`` missing from the memo ``key`` (one writer at a time; readers
    keep the snapshot they took). A memo past :data:`_MEMO_LIMIT` texts starts again."""
    with _MEMO_LOCK:
        texts = _MEMO.get(key)
        if texts is None or len(texts.table) > _MEMO_LIMIT:
            texts = _Texts(np.full(key[1], -1, dtype=np.int32), pa.array([], pa.string()))
        codes = np.unique(code[texts.where[code] < 0])
        if len(codes):
            where = texts.where.copy()
            where[codes] = len(texts.table) + np.arange(len(codes), dtype=np.int32)
            added = pa.array(_compose(codes, radices, compose), pa.string())
            texts = _Texts(where, pa.concat_arrays([texts.table, added]))
        _MEMO[key] = texts
        return texts


def _distinct(code: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes in order, and each row's position among them."""
    if space > _DENSE_LIMIT:
        present, index = np.unique(code, return_inverse=True)
        return present, index
    present = np.flatnonzero(np.bincount(code, minlength=space))
    dense = np.full(space, -1, dtype=np.int64)
    dense[present] = np.arange(len(present))
    return present, dense[code]


def _compose(codes: np.ndarray, radices: list[int], compose: Callable[..., str]) -> list[str]:
    digits = _decode(np.asarray(codes, dtype=np.int64), radices)
    return [compose(*args) for args in zip(*digits, strict=True)]


def _decode(codes: np.ndarray, radices: list[int]) -> list[list[int]]:
    out = []
    for radix in reversed(radices):
        codes, digit = np.divmod(codes, radix)
        out.append(digit.tolist())
    return out[::-1]


def hex_text(n: int, parts: Sequence[str | np.ndarray]) -> pa.StringArray:
    """Fixed-width text: constants, and uint64 columns written as 16 lowercase hex digits.

    The rows are written straight into one Arrow buffer (every byte is
    written, so it is not zeroed first), one part at a time as a field of a
    fixed-size record.
    """
    widths = [len(p.encode()) if isinstance(p, str) else 16 for p in parts]
    width = sum(widths)
    buf = pa.allocate_buffer(n * width)
    starts = np.cumsum([0, *widths[:-1]]).tolist()
    record = np.dtype({"names": [f"p{i}" for i in range(len(parts))], "formats": [f"V{w}" for w in widths],
                       "offsets": starts, "itemsize": width})
    rows = np.frombuffer(buf, dtype=record, count=n) if n else np.empty(0, record)
    for i, part in enumerate(parts):
        if isinstance(part, str):
            rows[f"p{i}"] = np.frombuffer(part.encode(), dtype=f"V{widths[i]}")[0]
        else:
            quarters = np.asarray(part, dtype=np.uint64).astype(">u8").view(">u2").astype(np.intp)
            rows[f"p{i}"] = _HEX4[quarters].view("V16").reshape(n)
    offsets = np.arange(n + 1, dtype=np.int64) * width
    if n * width >= 2**31:
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), buf)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), buf)


def masked(array: pa.Array, present: np.ndarray) -> pa.Array:
    """``array`` with nulls where not ``present``."""
    if present.all():
        return array
    return pc.if_else(pa.array(present), array, pa.scalar(None, array.type))
