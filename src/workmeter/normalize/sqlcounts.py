"""The SQL twin of :mod:`workmeter.normalize.fields`, for DuckDB.

A format's rules are written once against the :class:`Reader` interface
(``count(path)``, ``given(path)``, ``extra``) and read their counts through
one of two readers:

- :class:`SqlCounts` validates. It reads a *usage row*: the struct
  ``{c: codes, o: usage is an object, x: extra flag}``
  built by :func:`row_sql` from ONE ``json_extract(u, [paths…])`` (one parse
  of the usage object), enclosing objects first, each value classified by
  one lambda into the codes of :func:`workmeter.normalize.fields.classify`:
  the count itself when valid, :data:`SQL_TOO_LARGE` above the maximum, else
  a negative code (missing/null, object, not an integer, negative).
  Classification reads the JSON text of each value: an integer is a run of
  digits, as the JSON grammar writes it (a text that survives a round trip
  through UBIGINT); ``3.0``, ``1e3``, ``"3"``, ``true``, arrays and objects
  are not. A valid row passes one test of list minima and maxima. The row
  is either a column the caller selected once (cheapest: plain list
  indexing afterwards) or bound inside one expression with :func:`let` (a
  one-element ``list_transform``: self-contained, but DuckDB runs lambda
  bodies several times slower than plain expressions).
- :class:`SqlValues` only reads: one ``json_extract_string`` with the
  format's paths, cast to ``BIGINT[]``. It is right exactly for usage objects
  that :class:`SqlCounts` accepts (valid counts are integers, missing and
  null are NULL): the cheap way to compute one bucket column on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from workmeter.normalize.fields import (
    MAX_COUNT,
    MISSING,
    NEGATIVE,
    NOT_INTEGER,
    NOT_OBJECT,
    OBJECT,
    REASONS,
    TOO_LARGE,
    USAGE_NOT_OBJECT,
    Path,
    describe,
    plan,
)

#: SQL code of a value above MAX_COUNT (codes are BIGINT; fields.TOO_LARGE is Python's).
SQL_TOO_LARGE = MAX_COUNT + 1
_U = "TRY_CAST(s AS UBIGINT)"
#: JSON value text ``s`` → code: the count (0..MAX_COUNT), SQL_TOO_LARGE, or a negative code
#: (MISSING, OBJECT, NOT_INTEGER, NEGATIVE). One lambda for every slot of every format.
CLASSIFY = (
    f"lambda s: CASE WHEN s IS NULL OR s = 'null' THEN {MISSING}"
    f" WHEN starts_with(s, '{{') THEN {OBJECT}"
    f" WHEN {_U}::VARCHAR = s THEN least({_U}, {SQL_TOO_LARGE})::BIGINT"
    " WHEN s = '-0' THEN 0"
    f" WHEN regexp_full_match(s, '[0-9]+') THEN {SQL_TOO_LARGE}"
    f" WHEN regexp_full_match(s, '-[0-9]+') THEN {NEGATIVE}"
    f" ELSE {NOT_INTEGER} END"
)
_JSON_WS = "' ' || chr(9) || chr(10) || chr(13)"
#: The name a usage row is bound to by :func:`let`.
ROW = "wm_usage"


def sql_str(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(items) + "]"


def json_path(path: Path) -> str:
    """A DuckDB JSON path literal; every key is quoted, so dotted keys stay one key."""
    return sql_str("$" + "".join(f'."{key}"' for key in path))


def first_true(pairs: list[tuple[str, str]], otherwise: str = "NULL") -> str:
    """CASE expression: the value of the first pair whose condition is true."""
    if not pairs:
        return otherwise
    return "CASE " + " ".join(f"WHEN {c} THEN {v}" for c, v in pairs) + f" ELSE {otherwise} END"


def row_sql(u: str, codes: str, extra: str = "false") -> str:
    """The usage row of ``u``: its ``codes`` (BIGINT[]), whether it is an object, an extra flag."""
    text = f"{u}::VARCHAR"
    is_object = f"coalesce(starts_with({text}, '{{') OR starts_with(ltrim({text}, {_JSON_WS}), '{{'), false)"
    return f"{{'c': {codes}, 'o': {is_object}, 'x': coalesce({extra}, false)}}"


def let(row: str, expr: str) -> str:
    """``expr`` (written over :data:`ROW`) evaluated on the usage row ``row``, standalone."""
    return f"list_transform([{row}], lambda {ROW}: {expr})[1]"


class Reader(Protocol):
    """What a format's SQL rules read counts through."""

    def count(self, path: Path) -> str: ...

    def given(self, path: Path) -> str: ...

    @property
    def extra(self) -> str: ...


class SqlValues:
    """Counts of valid usage objects, read cheaply (no validation) and bound as ``wm_values``."""

    VAR = "wm_values"

    def __init__(self, fields: Iterable[Path]) -> None:
        self._index = {p: i + 1 for i, p in enumerate(dict.fromkeys(fields))}

    def bind(self, u: str, expr: str) -> str:
        """``expr`` (written with :meth:`count` / :meth:`given`) as a standalone expression over ``u``."""
        paths = sql_list(json_path(p) for p in self._index)
        values = f"TRY_CAST(json_extract_string({u}, {paths}) AS BIGINT[])"
        return f"list_transform([{values}], lambda {self.VAR}: {expr})[1]"

    def count(self, path: Path) -> str:
        return f"coalesce({self.VAR}[{self._index[path]}], 0)"

    def given(self, path: Path) -> str:
        return f"({self.VAR}[{self._index[path]}] IS NOT NULL)"

    @property
    def extra(self) -> str:
        return "false"


class SqlCounts:
    """One format's fields in a usage row (``row``: a column or :data:`ROW` inside :func:`let`)."""

    def __init__(self, fields: Iterable[Path], row: str = ROW) -> None:
        steps = plan(fields)
        self.objects = [p for kind, p in steps if kind == "object"]
        self.counts = [p for kind, p in steps if kind == "count"]
        self._index = {p: i + 1 for i, p in enumerate(self.objects + self.counts)}
        self.row = row

    def row_of(self, u: str, extra: str = "false") -> str:
        """STRUCT: the usage row of ``u`` read as this format alone."""
        return row_sql(u, self.codes(u), extra)

    def problem(self, checks: list[tuple[str, str]]) -> str:
        """VARCHAR: the field problem, else the first failing format check, else NULL."""
        quoted = [(cond, sql_str(reason)) for cond, reason in checks]
        return f"coalesce({self.field_problem()}, {first_true(quoted)})"

    def raw(self, u: str) -> str:
        """VARCHAR[] expression: the JSON text of every slot (NULL when missing), one parse of ``u``."""
        paths = sql_list(json_path(p) for p in self._index)
        return f"json_extract(coalesce({u}, 'null'::JSON), {paths})::VARCHAR[]"

    def codes(self, u: str) -> str:
        """BIGINT[] expression: the code of every slot."""
        return f"list_transform({self.raw(u)}, {CLASSIFY})"

    def code(self, path: Path) -> str:
        """BIGINT classification code of ``path`` (see fields.classify)."""
        return f"{self.row}.c[{self._index[path]}]"

    def count(self, path: Path) -> str:
        """BIGINT count at ``path``: the value when valid, 0 when missing."""
        return f"greatest({self.code(path)}, 0)"

    def given(self, path: Path) -> str:
        """BOOLEAN: ``path`` holds a value (not missing, not null)."""
        return f"({self.code(path)} <> {MISSING})"

    @property
    def extra(self) -> str:
        """BOOLEAN: the format's extra flag (see ``extra_sql`` of a format)."""
        return f"{self.row}.x"

    def fields_ok(self) -> str:
        """BOOLEAN: every enclosing value an object or missing, every count valid or missing."""
        c, k = f"{self.row}.c", len(self.objects)
        ok = f"list_min({c}[{k + 1}:]) >= {MISSING} AND list_max({c}) <= {MAX_COUNT}"
        if k:
            ok += f" AND list_min({c}[:{k}]) >= {OBJECT} AND list_max({c}[:{k}]) <= {MISSING}"
        return ok

    def field_problem(self) -> str:
        """VARCHAR: the first bad enclosing object or count, named as fields.read_counts does; else NULL.

        One test passes a valid row; names are looked up only for bad ones.
        """
        c, k = f"{self.row}.c", len(self.objects)
        pairs = [(f"NOT {self.row}.o", sql_str(USAGE_NOT_OBJECT)), (self.fields_ok(), "NULL")]
        for path in self.objects:
            reason = f"{describe(path)} {REASONS[NOT_OBJECT]}"
            pairs.append((f"{self.code(path)} NOT IN ({MISSING}, {OBJECT})", sql_str(reason)))
        found = ", ".join(f"list_position({c}[{k + 1}:], {v})" for v in self._BAD_COUNT)
        bad = f"{k} + least({found})"
        names = sql_list(sql_str(describe(p)) for p in self._index)
        texts = " ".join(f"WHEN {v} THEN {sql_str(REASONS[code])}" for v, code in self._BAD_COUNT.items())
        return first_true(pairs, otherwise=f"{names}[{bad}] || ' ' || CASE {c}[{bad}] {texts} END")

    #: A bad count's SQL code → the reason code it reports.
    _BAD_COUNT = {OBJECT: NOT_INTEGER, NOT_INTEGER: NOT_INTEGER, NEGATIVE: NEGATIVE, SQL_TOO_LARGE: TOO_LARGE}

    def problems(self) -> list[tuple[str, str]]:
        """(condition, reason) pairs that mirror fields.read_counts, one per possible reason."""
        out = [(f"NOT {self.row}.o", USAGE_NOT_OBJECT)]
        for path in self.objects:
            cond = f"{self.code(path)} NOT IN ({MISSING}, {OBJECT})"
            out.append((cond, f"{describe(path)} {REASONS[NOT_OBJECT]}"))
        for path in self.counts:
            for code, sql_codes in ((NOT_INTEGER, (OBJECT, NOT_INTEGER)), (NEGATIVE, (NEGATIVE,)),
                                    (TOO_LARGE, (SQL_TOO_LARGE,))):
                listed = ", ".join(str(v) for v in sql_codes)
                out.append((f"{self.code(path)} IN ({listed})", f"{describe(path)} {REASONS[code]}"))
        return out


def bind_buckets(
    u: str, fields: Iterable[Path], build: Callable[[Reader], dict[str, str]]
) -> dict[str, str]:
    """Standalone bucket expressions over ``u`` from a format's ``buckets_from``.

    Each reads its own values (one parse each); constant buckets read nothing.
    """
    x = SqlValues(fields)
    return {name: expr if expr.isdigit() else x.bind(u, expr) for name, expr in build(x).items()}


def bind_problems(
    u: str,
    fields: Iterable[Path],
    build: Callable[[Reader], list[tuple[str, str]]],
    extra: str = "false",
) -> list[tuple[str, str]]:
    """Standalone (condition, reason) pairs over ``u``: field checks, then the format's ``checks_from``."""
    x = SqlCounts(fields)
    return [(let(x.row_of(u, extra), cond), reason) for cond, reason in [*x.problems(), *build(x)]]
