"""The SQL twin of :mod:`workmeter.normalize.fields`, for DuckDB.

A format's fields are read with ONE ``json_extract(u, [paths…])`` call (the
usage object is parsed once per row) and each value is classified into the
same codes as :func:`workmeter.normalize.fields.classify`: the count itself
when valid, else a negative code (missing/null, object, not an integer,
negative, too large). Classification reads the JSON text of each value: an
integer is a run of digits, as the JSON grammar writes it; ``3.0``, ``1e3``,
``"3"``, ``true``, arrays and objects are not.

The codes are bound once per row (a one-element ``list_transform``: DuckDB's
``let``) as the struct ``wm_usage`` = ``{c: codes, o: usage is an object,
f: format, u: usage}``; a format's rules are plain expressions over it (see
:class:`SqlCounts`) and :func:`let` turns them into standalone SQL. Several
columns built over the same row repeat identical row text, which DuckDB's
common-subexpression elimination evaluates once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from workmeter.normalize.fields import (
    COUNT_REASONS,
    MAX_COUNT,
    MISSING,
    OBJECT,
    USAGE_NOT_OBJECT,
    Path,
    describe,
    not_object,
    plan,
)

_X = "x::VARCHAR"
#: JSON value text → classification code (see fields.classify).
CLASSIFY = (
    f"lambda x: CASE WHEN x IS NULL OR {_X} = 'null' THEN {MISSING}"
    f" WHEN starts_with({_X}, '{{') THEN {OBJECT}"
    f" WHEN {_X} = '-0' THEN 0"
    f" WHEN regexp_full_match({_X}, '[0-9]+') THEN"
    f" CASE WHEN length({_X}) <= 16 AND TRY_CAST({_X} AS BIGINT) <= {MAX_COUNT}"
    f" THEN TRY_CAST({_X} AS BIGINT) ELSE -5 END"
    f" WHEN regexp_full_match({_X}, '-[0-9]+') THEN -4"
    " ELSE -3 END"
)
_JSON_WS = "' ' || chr(9) || chr(10) || chr(13)"
#: The lambda parameter the bound row is known by inside expressions.
ROW = "wm_usage"
FMT = f"{ROW}.f"
IS_OBJECT = f"{ROW}.o"
USAGE = f"{ROW}.u"


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


def row_sql(u: str, codes: str, fmt: str = "NULL::VARCHAR") -> str:
    """The bound row: classified ``codes`` (a JSON[] expression over ``u``), objectness, format."""
    is_object = f"coalesce(ltrim({u}::VARCHAR, {_JSON_WS})[1] = '{{', false)"
    return f"{{'c': list_transform({codes}, {CLASSIFY}), 'o': {is_object}, 'f': {fmt}, 'u': {u}}}"


def let(row: str, expr: str) -> str:
    """``expr`` (written over ``wm_usage``) evaluated on ``row``, as a standalone expression."""
    return f"list_transform([{row}], lambda {ROW}: {expr})[1]"


class SqlCounts:
    """One format's fields inside the bound row: enclosing objects first, then counts."""

    def __init__(self, fields: Iterable[Path]) -> None:
        steps = plan(fields)
        self.objects = [p for kind, p in steps if kind == "object"]
        self.counts = [p for kind, p in steps if kind == "count"]
        self._index = {p: i + 1 for i, p in enumerate(self.objects + self.counts)}

    def extract(self, u: str) -> str:
        """JSON[] expression: the raw value of every slot, from one parse of ``u``."""
        paths = sql_list(json_path(p) for p in self._index)
        return f"json_extract(coalesce({u}, 'null'::JSON), {paths})"

    def row(self, u: str) -> str:
        return row_sql(u, self.extract(u))

    def code(self, path: Path) -> str:
        """BIGINT classification code of ``path`` (see fields.classify)."""
        return f"{ROW}.c[{self._index[path]}]"

    def count(self, path: Path) -> str:
        """BIGINT count at ``path``: the value when valid, 0 when missing."""
        return f"greatest({self.code(path)}, 0)"

    def given(self, path: Path) -> str:
        """BOOLEAN: ``path`` holds a value (not missing, not null)."""
        return f"({self.code(path)} <> {MISSING})"

    def fields_ok(self) -> str:
        """BOOLEAN: every enclosing object is an object or missing, every count valid or missing."""
        k = len(self.objects)
        counts_ok = f"coalesce(list_min({ROW}.c[{k + 1}:]), 0) >= {MISSING}"
        if not k:
            return counts_ok
        objects = f"{ROW}.c[1:{k}]"
        return f"list_max({objects}) <= {MISSING} AND list_min({objects}) >= {OBJECT} AND {counts_ok}"

    def field_problem(self) -> str:
        """VARCHAR: the first bad enclosing object or count, as fields.read_counts names it; else NULL.

        A cheap test first (list_min / list_max); names are looked up only for bad rows.
        """
        k = len(self.objects)
        pairs = [(f"NOT {IS_OBJECT}", sql_str(USAGE_NOT_OBJECT)), (self.fields_ok(), "NULL")]
        if k:
            bad = f"list_position(list_transform({ROW}.c[1:{k}], lambda v: v NOT IN ({MISSING}, {OBJECT})), true)"
            names = sql_list(sql_str(not_object(p)) for p in self.objects)
            pairs.append((f"{bad} IS NOT NULL", f"{names}[{bad}]"))
        bad = f"list_position(list_transform({ROW}.c[{k + 1}:], lambda v: v < {MISSING}), true)"
        names = sql_list(sql_str(describe(p)) for p in self.counts)
        by_code = {code: text for codes, text in COUNT_REASONS for code in codes}
        texts = sql_list(sql_str(by_code[c]) for c in range(OBJECT, OBJECT - len(by_code), -1))
        pairs.append(("true", f"{names}[{bad}] || ' ' || {texts}[{OBJECT} + 1 - {ROW}.c[{k} + {bad}]]"))
        return first_true(pairs)

    def problems(self) -> list[tuple[str, str]]:
        """(condition, reason) pairs that mirror fields.read_counts, one per possible reason."""
        out = [(f"NOT {IS_OBJECT}", USAGE_NOT_OBJECT)]
        out += [(f"{self.code(p)} NOT IN ({MISSING}, {OBJECT})", not_object(p)) for p in self.objects]
        for path in self.counts:
            for codes, text in COUNT_REASONS:
                listed = ", ".join(str(c) for c in codes)
                out.append((f"{self.code(path)} IN ({listed})", f"{describe(path)} {text}"))
        return out


def bind_buckets(
    u: str, fields: Iterable[Path], build: Callable[[SqlCounts], dict[str, str]]
) -> dict[str, str]:
    """Standalone bucket expressions over ``u`` from a format's ``buckets_from``."""
    x = SqlCounts(fields)
    return {name: let(x.row(u), expr) for name, expr in build(x).items()}


def bind_problems(
    u: str, fields: Iterable[Path], build: Callable[[SqlCounts], list[tuple[str, str]]]
) -> list[tuple[str, str]]:
    """Standalone (condition, reason) pairs over ``u``: field checks, then the format's ``checks_from``."""
    x = SqlCounts(fields)
    return [(let(x.row(u), cond), reason) for cond, reason in [*x.problems(), *build(x)]]
