"""Vectorized text rendering: many rows of one template into an Arrow string array.

A template is a sequence of constant text and typed fields (:class:`Int`,
:class:`Cat`, :class:`Hex`), with optional groups (:class:`Opt`) that a row
may leave out. Rendering never loops over rows in Python:

1. the template is laid out as fixed-width rows of 8-byte words, each
   field in its own word-aligned slot and the gaps filled with spaces;
2. each field becomes a matrix of words (numbers via 4-digit lookup tables,
   categories via a small table, ids via a hex table);
3. rows are assembled block by block (cache-sized) by broadcasting the
   template and writing the field words;
4. every space is deleted in one C-level pass (``bytearray.translate``) and
   the row offsets come from the known lengths of each field.

Because padding only ever sits between JSON tokens (a string field carries
its own quotes), the rows are valid JSON even before step 4. Nothing rendered
may contain a space; :func:`compile_template` enforces this for constants
and category values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa

SPACE = 0x20
SPACES = np.uint64(0x2020202020202020)
_BLOCK_ROWS = 2048
_MAX_INT = 99_999_999


@dataclass(frozen=True)
class Int:
    """A JSON integer from ``values[name]`` (int64, -9_999_999 … 99_999_999)."""

    name: str


@dataclass(frozen=True)
class Cat:
    """One of ``choices`` (already quoted if it is a JSON string), by code in ``values[name]``."""

    name: str
    choices: tuple[str, ...]

    @property
    def width(self) -> int:
        return max(1, -(-max(len(c.encode()) for c in self.choices) // 8))


@dataclass(frozen=True)
class Hex:
    """``prefix`` + 16 lowercase hex digits of the uint64 ``values[name]``, quoted or not."""

    name: str
    prefix: str = ""
    quoted: bool = True

    @property
    def text_len(self) -> int:
        return len(self.prefix) + 16 + (2 if self.quoted else 0)

    @property
    def width(self) -> int:
        return -(-self.text_len // 8)


Field = Int | Cat | Hex


@dataclass(frozen=True)
class Opt:
    """Parts present only in rows where the boolean ``values[name]`` is true."""

    name: str
    parts: tuple[str | Field, ...]


Part = str | Field | Opt


@dataclass
class _Slot:
    name: str
    word: int  # first word of the slot in the row
    width: int  # words
    group: str | None


@dataclass
class _Group:
    name: str
    first: int  # word range [first, stop)
    stop: int
    const_len: int


@dataclass
class Layout:
    """A template laid out for one batch: the blank row and where each field and group sits."""

    row: np.ndarray  # uint64 words: the constant text, spaces where fields go
    const_len: int  # bytes of constant text outside optional groups
    slots: list[_Slot] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)


def check_template(parts: Sequence[Part]) -> None:
    """Refuse constants or category values holding a space (spaces are the padding)."""
    for part in parts:
        if isinstance(part, Opt):
            check_template(part.parts)
        elif isinstance(part, str) and " " in part:
            raise ValueError(f"template text may not contain spaces: {part!r}")
        elif isinstance(part, Cat) and _has_space(part.choices):
            raise ValueError(f"category values may not contain spaces: {part.name}")


@lru_cache(maxsize=256)
def _has_space(choices: tuple[str, ...]) -> bool:
    return any(" " in c for c in choices)


def layout(parts: Sequence[Part], widths: Mapping[str, int]) -> Layout:
    """Lay ``parts`` out in 8-byte words: each field in ``widths[name]`` words of its own.

    Padding goes before a field (after the ``:`` of its key) and around
    optional groups, i.e. always between JSON tokens.
    """
    buf = bytearray()
    slots: list[_Slot] = []
    groups: list[_Group] = []

    def align() -> None:
        buf.extend(b" " * (-len(buf) % 8))

    def put(part: str | Field, group: str | None) -> int:
        if isinstance(part, str):
            buf.extend(part.encode())
            return len(part.encode())
        align()
        slots.append(_Slot(part.name, len(buf) // 8, widths[part.name], group))
        buf.extend(b" " * (8 * widths[part.name]))
        return 0

    const_len = 0
    for part in parts:
        if isinstance(part, Opt):
            align()
            first = len(buf) // 8
            glen = sum(put(p, part.name) for p in part.parts)
            align()
            groups.append(_Group(part.name, first, len(buf) // 8, glen))
        else:
            const_len += put(part, None)
    align()
    return Layout(np.frombuffer(bytes(buf), dtype=np.uint64).copy(), const_len, slots, groups)


def _fields(parts: Sequence[Part]) -> list[tuple[Field, str | None]]:
    out: list[tuple[Field, str | None]] = []
    for part in parts:
        if isinstance(part, Opt):
            out.extend((p, part.name) for p in part.parts if not isinstance(p, str))
        elif not isinstance(part, str):
            out.append((part, None))
    return out


def render(parts: Sequence[Part], n: int, values: Mapping[str, np.ndarray], *, compact: bool = True) -> pa.Array:
    """Render ``n`` rows of the template ``parts`` with the field values and group masks in ``values``.

    ``compact=False`` keeps the padding spaces (valid JSON between tokens, faster);
    every row then has the same length.
    """
    check_template(parts)
    if len(parts) == 1 and isinstance(parts[0], Cat):
        table = _cat_array(parts[0].choices)
        return table.take(pa.array(np.asarray(values[parts[0].name], dtype=np.int32)))
    lengths = np.zeros(n, dtype=np.int64)
    present = {p.name: np.asarray(values[p.name], dtype=bool) for p in parts if isinstance(p, Opt)}
    words: dict[str, np.ndarray] = {}
    widths: dict[str, int] = {}
    for f, group in _fields(parts):
        mat, lens = field_words(f, values[f.name])
        words[f.name] = mat
        widths[f.name] = -(-int(lens.max()) // 8) if n else 1
        lengths += lens if group is None else np.where(present[group], lens, 0)
    lay = layout(parts, widths)
    lengths += lay.const_len
    for g in lay.groups:
        lengths += present[g.name] * g.const_len
    width = lay.row.size
    buf = bytearray(n * width * 8)
    rows = np.frombuffer(buf, dtype=np.uint64).reshape(n, width)
    columns = [(s.word + j, words[s.name][:, j]) for s in lay.slots for j in range(s.width)]
    for lo in range(0, n, _BLOCK_ROWS):
        hi = min(n, lo + _BLOCK_ROWS)
        block = rows[lo:hi]
        block[:] = lay.row
        for word, col in columns:
            block[:, word] = col[lo:hi]
        for g in lay.groups:
            block[~present[g.name][lo:hi], g.first : g.stop] = SPACES
    del rows
    if not compact or int(lengths.sum()) == n * width * 8:
        return _string_array(n, np.full(n, width * 8, dtype=np.int64), buf)
    return _string_array(n, lengths, buf.translate(None, b" "))


def _string_array(n: int, lengths: np.ndarray, data: bytearray) -> pa.Array:
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] != len(data):
        raise AssertionError(f"rendered {len(data)} bytes, expected {offsets[-1]}")
    if offsets[-1] >= 2**31:
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))


def constant_strings(text: str, n: int) -> pa.StringArray:
    """``n`` copies of ``text`` as a string array (no per-row work)."""
    data = text.encode() * n
    offsets = np.arange(n + 1, dtype=np.int32) * len(text.encode())
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


# --------------------------------------------------------------------- fields


def field_words(f: Field, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The words (n, f.width) and text lengths (n,) of one field."""
    if isinstance(f, Int):
        words, lens = int_words(np.asarray(vals, dtype=np.int64))
        return words[:, None], lens
    if isinstance(f, Cat):
        table, lens_t = _cat_table(f.choices)
        codes = np.asarray(vals, dtype=np.intp)
        return table[codes], lens_t[codes]
    return hex_words(np.asarray(vals, dtype=np.uint64), f.prefix, f.quoted), np.full(len(vals), f.text_len)


@lru_cache(maxsize=256)
def _cat_array(choices: tuple[str, ...]) -> pa.StringArray:
    return pa.array(choices, pa.string())


@lru_cache(maxsize=256)
def _cat_table(choices: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    width = Cat("", choices).width
    raw = b"".join(c.encode().ljust(8 * width, b" ") for c in choices)
    table = np.frombuffer(raw, dtype=np.uint64).reshape(len(choices), width).copy()
    return table, np.array([len(c.encode()) for c in choices], dtype=np.int64)


def _digit_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For x < 10_000: its digits left-aligned in a word (spaces after), 4 zero-padded digits, length."""
    xs = range(10_000)
    plain = np.frombuffer(b"".join(str(x).encode().ljust(8) for x in xs), dtype=np.uint64).copy()
    padded = np.frombuffer(b"".join(f"{x:04d}".encode() for x in xs), dtype=np.uint32).astype(np.uint64)
    lens = np.array([len(str(x)) for x in xs], dtype=np.int64)
    return plain, padded, lens


_PLAIN, _PADDED, _LENS = _digit_tables()
_LOW_MASK = np.array([(1 << (8 * k)) - 1 for k in range(5)], dtype=np.uint64)
# spaces in bytes k..7 of a word, for k = 0..8
_SPACE_FROM = np.array([int.from_bytes(b"\0" * k + b" " * (8 - k), "little") for k in range(9)], dtype=np.uint64)


def int_words(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decimal text of each value, left-aligned in one word and padded with spaces."""
    if v.size and (v.min() < -9_999_999 or v.max() > _MAX_INT):
        raise ValueError("integer field out of range for one word")
    neg = v < 0
    a = np.abs(v)
    hi, lo = np.divmod(a, 10_000)
    small = hi == 0
    words = _PLAIN[lo].copy()
    lens = _LENS[lo].copy()
    if not small.all():
        big = ~small
        h, low = hi[big], lo[big]
        nh = _LENS[h]
        shift = (8 * nh).astype(np.uint64)
        words[big] = (_PLAIN[h] & _LOW_MASK[nh]) | (_PADDED[low] << shift) | _SPACE_FROM[nh + 4]
        lens[big] = nh + 4
    if neg.any():
        words[neg] = (words[neg] << np.uint64(8)) | np.uint64(0x2D)
        lens[neg] += 1
    return words, lens


_HEX2 = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), dtype=np.uint16).copy()


def hex_words(v: np.ndarray, prefix: str, quoted: bool) -> np.ndarray:
    """Words of ``[quote] prefix <16 hex digits> [quote]``, padded with spaces."""
    n = len(v)
    head = (b'"' if quoted else b"") + prefix.encode()
    width = -(-(len(head) + 16 + (1 if quoted else 0)) // 8)
    out = np.full((n, 8 * width), SPACE, dtype=np.uint8)
    out[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    digits = _HEX2[v.astype(">u8").view(np.uint8).reshape(n, 8)]
    out[:, len(head) : len(head) + 16] = digits.view(np.uint8).reshape(n, 16)
    if quoted:
        out[:, len(head) + 16] = ord('"')
    return out.view(np.uint64)
