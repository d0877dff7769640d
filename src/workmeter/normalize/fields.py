"""Reading token counts out of a provider's usage object, with one set of rules.

A *field* is a path of keys into the usage object, e.g.
``("prompt_tokens_details", "cached_tokens")``. Every format module lists the
fields it reads, in the order they are validated; the same list drives the
pure-Python reader here and the SQL reader in :mod:`workmeter.normalize.sqlcounts`,
so both reject the same payloads with the same reason.

What a count may be:

- an ``int`` (JSON integer) from 0 to :data:`MAX_COUNT` (2^53 − 1, the largest
  integer every JSON parser keeps exactly);
- missing, or JSON ``null``: counts as 0;
- anything else is rejected, naming the field: ``bool`` (``true`` is not 1),
  floats even when integral (``3.0``), strings even when integral (``"3"``),
  arrays and objects ("is not an integer"), negative integers ("is negative"),
  integers above :data:`MAX_COUNT` ("is too large").

Every key on the way to a count (``prompt_tokens_details``) must be an object,
``null`` or missing (then every count below it is 0); the usage object itself
must be an object. Checks run in a fixed order (the usage object, then the
enclosing objects, then the counts, each in the order the format lists them)
and the first failure is the reason given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from workmeter.core.errors import InvalidUsage

Path = tuple[str, ...]

#: The largest count accepted: 2^53 − 1, exact in every JSON implementation.
MAX_COUNT = 2**53 - 1

# Classification codes (the SQL reader's too, but for a too-large count, which it codes above
# MAX_COUNT). A code >= 0 is a valid count.
MISSING = -1  # key absent or JSON null
OBJECT = -2
NOT_INTEGER = -3
NEGATIVE = -4
TOO_LARGE = -5
NOT_OBJECT = -6  # an enclosing key that holds something other than an object

USAGE_NOT_OBJECT = "usage is not an object"


def describe(path: Path) -> str:
    """How a reason names a field: ``usage.a.b``, or ``usage["gen_ai.usage.x"]`` for dotted keys."""
    return "usage" + "".join(f'["{key}"]' if "." in key else f".{key}" for key in path)


def exceeds(part: str, whole: str) -> str:
    """Reason for a sub-count larger than the count it is part of."""
    return f"{part} exceeds {whole}"


#: What a bad code means, after the field's name.
REASONS: dict[int, str] = {
    NOT_INTEGER: "is not an integer",
    NEGATIVE: "is negative",
    TOO_LARGE: f"is too large (over {MAX_COUNT})",
    NOT_OBJECT: "is not an object",
}


def plan(fields: Iterable[Path]) -> list[tuple[str, Path]]:
    """Validation steps in order: every enclosing object (in order of first use), then every count."""
    fields = tuple(fields)
    containers: dict[Path, None] = {}
    for field in fields:
        containers.update(dict.fromkeys(field[:depth] for depth in range(1, len(field))))
    counts = dict.fromkeys(fields)
    return [("object", c) for c in containers] + [("count", f) for f in counts]


def classify(value: Any) -> int:
    """The code of one value: the count itself, or a negative classification code."""
    if value is None:
        return MISSING
    if isinstance(value, Mapping):
        return OBJECT
    if isinstance(value, bool) or not isinstance(value, int):
        return NOT_INTEGER
    if value < 0:
        return NEGATIVE
    return value if value <= MAX_COUNT else TOO_LARGE


def lookup(usage: Mapping[str, Any], path: Path) -> Any:
    """The value at ``path``, or None when any key on the way is missing or null."""
    value: Any = usage
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


class Counts:
    """Validated counts of one usage object: ``counts[path]`` (0 when missing) and ``given``."""

    __slots__ = ("_codes",)

    def __init__(self, codes: dict[Path, int]) -> None:
        self._codes = codes

    def __getitem__(self, path: Path) -> int:
        return max(self._codes[path], 0)

    def given(self, path: Path) -> bool:
        return self._codes[path] != MISSING


def read_counts(usage: Any, fields: Iterable[Path]) -> Counts:
    """Validate ``fields`` of ``usage`` in order; raise InvalidUsage at the first bad one."""
    if not isinstance(usage, Mapping):
        raise InvalidUsage(USAGE_NOT_OBJECT, where="usage")
    codes: dict[Path, int] = {}
    for kind, path in plan(fields):
        value = lookup(usage, path)
        if kind == "object":
            code = MISSING if value is None or isinstance(value, Mapping) else NOT_OBJECT
        else:
            code = classify(value)
            code = NOT_INTEGER if code == OBJECT else code
        if code in REASONS:
            raise InvalidUsage(f"{describe(path)} {REASONS[code]}", where=describe(path))
        codes[path] = code
    return Counts(codes)


def ensure(ok: bool, reason: str) -> None:
    """Raise InvalidUsage(reason) unless ``ok``."""
    if not ok:
        raise InvalidUsage(reason, where="usage")
