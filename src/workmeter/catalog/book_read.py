"""Reading a price book's TOML: typed field access and errors with file, line and table path.

``tomllib`` reports lines only for syntax errors, so :class:`BookReader`
indexes the text itself: the line of every table header (``[book]``, the
n-th ``[[model]]``, the m-th ``[[model.tier]]`` *of that model*) and of every
key written in it. An error points at the offending key's line; for a
missing key, at its table's header; for a key inside an inline table
(``prices = { input_mtok = … }``), at the line of ``prices``.

Every message names the file, the line, the table path and what is wrong::

    acme.toml:14: [[model]] #2 > [[model.tier]] #1: missing key 'above' (an integer count of input tokens)

The reader collects the errors of a whole book (the first error of each
table) so one run lists every mistake; :meth:`BookReader.raise_errors`
raises them as one :class:`~workmeter.core.errors.InvalidInput`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NoReturn

from workmeter.core.errors import InvalidInput

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(?:\"([^\"]+)\"|'([^']+)'|([A-Za-z0-9_\-]+))\s*(?:\.|=)")


class Stop(Exception):
    """One table's first error was recorded; parsing moves on to the next table."""


def _resolve(current: Path, names: list[str]) -> Path:
    """Dotted header names → a path, reusing the indices of the array elements we are inside."""
    out: list[str | int] = []
    for name in names:
        out.append(name)
        n = len(out)
        if len(current) > n and tuple(current[:n]) == tuple(out) and isinstance(current[n], int):
            out.append(current[n])
    return tuple(out)


def index_lines(text: str) -> tuple[dict[Path, int], dict[tuple[Path, str], int]]:
    """(header line of every table path, line of every key of every table path)."""
    headers: dict[Path, int] = {(): 1}
    keys: dict[tuple[Path, str], int] = {}
    counts: dict[Path, int] = {}
    current: Path = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = [p.strip().strip("\"'") for p in header.group(2).split(".")]
            if header.group(1) == "[[":
                base = (*_resolve(current, names[:-1]), names[-1])
                counts[base] = counts.get(base, -1) + 1
                current = (*base, counts[base])
            else:
                current = _resolve(current, names)
            headers.setdefault(current, number)
            continue
        key = _KEY.match(line)
        if key:
            name = next(g for g in key.groups() if g)
            keys.setdefault((current, name), number)
    return headers, keys


def label(path: Path) -> str:
    """``("model", 1, "tier", 0)`` → ``[[model]] #2 > [[model.tier]] #1``; ``("book",)`` → ``[book]``."""
    parts: list[str] = []
    names: list[str] = []
    items = list(path)
    i = 0
    while i < len(items):
        names.append(str(items[i]))
        if i + 1 < len(items) and isinstance(items[i + 1], int):
            parts.append(f"[[{'.'.join(names)}]] #{int(items[i + 1]) + 1}")
            i += 2
        else:
            parts.append(f"[{'.'.join(names)}]")
            i += 1
    return " > ".join(parts) or "top level"


class BookReader:
    """Typed access to one book's tables; every failure is recorded with its location."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.headers, self.keys = index_lines(text)
        self.errors: list[tuple[int, str]] = []

    def line(self, path: Path, key: str | None) -> int:
        while True:
            if key is not None and (path, key) in self.keys:
                return self.keys[(path, key)]
            for table in ((*path, key, 0), (*path, key)) if key is not None else ():
                if table in self.headers:
                    return self.headers[table]
            if path in self.headers:
                return self.headers[path]
            if not path:
                return 1
            if isinstance(path[-1], int):
                path, key = path[:-2], str(path[-2])
            else:
                path, key = path[:-1], str(path[-1])

    def fail(self, path: Path, key: str | None, message: str) -> NoReturn:
        line = self.line(path, key)
        self.errors.append((line, f"{self.file}:{line}: {label(path)}: {message}"))
        raise Stop

    def raise_errors(self) -> None:
        if self.errors:
            self.errors.sort(key=lambda e: e[0])
            first = self.errors[0][1].split(": ", 1)[0]
            raise InvalidInput("\n".join(text for _, text in self.errors), where=first)

    # field access -------------------------------------------------------
    def known(self, raw: dict[str, Any], path: Path, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in raw:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(allowed)}"
                self.fail(path, key, f"unknown key {key!r}; {hint}")

    def table(self, raw: Any, path: Path, key: str | None = None) -> dict[str, Any]:
        value = raw if key is None else raw.get(key, {})
        if not isinstance(value, dict):
            self.fail(path, key, f"{key!r} must be a table, not {_kind(value)}")
        return value

    def tables(self, raw: dict[str, Any], path: Path, key: str) -> list[dict[str, Any]]:
        """An array of tables (``[[key]]`` or ``key = [{…}, …]``); absent → empty."""
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(path, key, f"{key!r} must be an array of tables ([[{_dotted(path, key)}]]), "
                                 f"not {_kind(value)}")
        return value

    def text(self, raw: dict[str, Any], path: Path, key: str, *, required: bool = False,
             default: str | None = None) -> str | None:
        if key not in raw:
            if required:
                self.fail(path, None, f"missing key {key!r}")
            return default
        value = raw[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(path, key, f"{key!r} must be a non-empty string, not {_kind(value)}")
        return value

    def strings(self, raw: dict[str, Any], path: Path, key: str) -> list[str] | None:
        if key not in raw:
            return None
        value = raw[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(path, key, f"{key!r} must be a list of strings, not {_kind(value)}")
        return value

    def count(self, raw: dict[str, Any], path: Path, key: str, what: str) -> int:
        if key not in raw:
            self.fail(path, None, f"missing key {key!r} ({what})")
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(path, key, f"{key!r} must be {what}, not {_kind(value)}")
        return value

    def decimal(self, raw: dict[str, Any], path: Path, key: str, *, required: bool = True) -> Decimal | None:
        """An exact decimal: a string, an integer, or a TOML float read from its text (never binary)."""
        if key not in raw:
            if required:
                self.fail(path, None, f"missing key {key!r}")
            return None
        value = raw[key]
        if isinstance(value, str):
            try:
                value = Decimal(value.strip())
            except ArithmeticError:
                self.fail(path, key, f"{key!r}: {raw[key]!r} is not a decimal number")
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail(path, key, f"{key!r} must be a decimal number (e.g. \"1.25\"), not {_kind(value)}")
        result = Decimal(value)
        if not result.is_finite():
            self.fail(path, key, f"{key!r}: {raw[key]!r} is not a finite number")
        return result

    def instant(self, raw: dict[str, Any], path: Path, key: str) -> datetime | None:
        from workmeter.core.timeutil import parse_instant

        if key not in raw:
            return None
        value = raw[key]
        if isinstance(value, datetime | date) or isinstance(value, str):
            try:
                return parse_instant(value.isoformat() if not isinstance(value, str) else value, field=key)
            except InvalidInput:
                pass
        self.fail(path, key, f"{key!r} must be a date or RFC 3339 time like 2026-01-01, not {_kind(value)}")

    def clock(self, raw: dict[str, Any], path: Path, key: str) -> time:
        if key not in raw:
            self.fail(path, None, f"missing key {key!r} (a UTC time of day like \"16:30\")")
        value = raw[key]
        if isinstance(value, time):
            return value
        if isinstance(value, str):
            try:
                return time.fromisoformat(value.strip())
            except ValueError:
                pass
        self.fail(path, key, f"{key!r} must be a UTC time of day like \"16:30\", not {_kind(value)}")


def _dotted(path: Path, key: str) -> str:
    return ".".join([*(str(p) for p in path if isinstance(p, str)), key])


def _kind(value: Any) -> str:
    """How a TOML value reads to the user (``the float 3.5``, ``the string 'x'``)."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int | Decimal):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r}"
