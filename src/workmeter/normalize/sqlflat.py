"""Normalization as flat columns: the fastest SQL form, for a layered query.

The other SQL forms (:mod:`workmeter.normalize.sql`) bind each usage row to
a struct or a lambda. DuckDB runs lambda bodies several times slower than
plain expressions, and a CASE does not share common subexpressions, so the
ledger's staging query uses this form instead: every value lives in its own
column and each layer of a CTE only reads columns of the layer before.

1. **texts** — :func:`slots_sql`: one ``json_extract`` of the usage object
   with the paths of its format (every enclosing object, then every count, in
   the order :func:`workmeter.normalize.fields.plan` validates them): the
   JSON text of each *slot*; the caller unpacks slot ``i`` into a column.
   Missing values are NULL, JSON null is ``'null'``.
2. **values** — :func:`value_sql`: ``TRY_CAST(text AS UBIGINT)``.
3. **codes** — :func:`code_sql`: the code of
   :func:`workmeter.normalize.fields.classify` (the count when valid,
   :data:`~workmeter.normalize.sqlcounts.SQL_TOO_LARGE` above the maximum,
   else a negative code). A JSON integer is the text that survives a round
   trip through UBIGINT (``3.0``, ``"3"``, ``true`` do not); anything else
   takes the slow branches of the CASE, so valid rows pay one comparison.
4. **results** — :func:`problem_sql` (NULL or the exact reason the Python
   path raises) and :func:`bucket_columns_sql`, both a CASE on the format
   over the code columns.

``code`` names the column of slot ``i`` (a callable), so the caller chooses
the column names. A property test holds the result equal to the Python
normalizers through the ledger's staging query.
"""

from __future__ import annotations

from collections.abc import Callable

from workmeter.normalize.buckets import ALL_COUNTS
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
from workmeter.normalize.registry import FORMATS, UsageFormat
from workmeter.normalize.sql import format_problems
from workmeter.normalize.sqlcounts import SQL_TOO_LARGE, first_true, json_path, sql_str

Column = Callable[[int], str]


def _slots(f: UsageFormat) -> list[Path]:
    return [path for _, path in plan(f.fields)]


#: Slot ``i`` of a usage row is the ``i``-th path of its format's plan (enclosing objects, then counts).
WIDTH = max(len(_slots(f)) for f in FORMATS.values())


#: The integer code of each usage format (a CASE on an integer is cheaper than on text).
FORMAT_CODES = {name: i + 1 for i, name in enumerate(FORMATS)}


def format_code_sql(fmt: str) -> str:
    """INTEGER: the code of format ``fmt`` (FORMAT_CODES), NULL for an unknown or missing one."""
    whens = " ".join(f"WHEN {sql_str(name)} THEN {code}" for name, code in FORMAT_CODES.items())
    return f"CASE {fmt} {whens} END"


def _on(kind: str, arms: dict[str, str], otherwise: str = "NULL") -> str:
    """CASE on the format code ``kind`` with one arm per format name."""
    whens = " ".join(f"WHEN {FORMAT_CODES[name]} THEN {arm}" for name, arm in arms.items())
    return f"CASE {kind} {whens} ELSE {otherwise} END"


def slots_sql(kind: str, usage: str) -> str:
    """VARCHAR[]: the JSON text of every slot of format ``kind`` (a code) in the usage JSON ``usage``.

    One parse of the usage object; NULL for an unknown format. Missing values are NULL,
    JSON null is ``'null'``.
    """
    arms = {name: f"json_extract({usage}, [{', '.join(json_path(p) for p in _slots(f))}])"
            for name, f in FORMATS.items()}
    return f"CAST({_on(kind, arms)} AS VARCHAR[])"


def value_sql(text: str) -> str:
    """UBIGINT: the slot's JSON text read as an unsigned integer, NULL when it is not one."""
    return f"TRY_CAST({text} AS UBIGINT)"


def containers_sql(kind: str) -> str:
    """INTEGER: how many of the first slots of format ``kind`` (a code) are enclosing objects."""
    return _on(kind, {name: str(len(_objects(f))) for name, f in FORMATS.items() if _objects(f)}, "0")


def code_sql(i: int, text: str, value: str, containers: str) -> str:
    """BIGINT: the code of slot ``i`` from its JSON ``text`` and ``value`` (see :func:`value_sql`).

    ``containers``: the column of :func:`containers_sql`. An enclosing object's code is
    MISSING when it is an object, missing or null, else NOT_OBJECT; so a usage row is
    valid exactly when every code lies from MISSING to MAX_COUNT (:func:`fields_ok_sql`).
    """
    container = ""
    if i < max(len(_objects(f)) for f in FORMATS.values()):
        container = (f" WHEN {i} < {containers} THEN CASE WHEN starts_with({text}, '{{') THEN {MISSING}"
                     f" ELSE {NOT_OBJECT} END")
    return (
        f"CASE WHEN {text} IS NULL OR {text} = 'null' THEN {MISSING}{container}"
        f" WHEN {value}::VARCHAR = {text} THEN least({value}, {SQL_TOO_LARGE})::BIGINT"
        f" WHEN starts_with({text}, '{{') THEN {OBJECT}"
        f" WHEN {text} = '-0' THEN 0"
        f" WHEN regexp_full_match({text}, '[0-9]+') THEN {SQL_TOO_LARGE}"
        f" WHEN regexp_full_match({text}, '-[0-9]+') THEN {NEGATIVE}"
        f" ELSE {NOT_INTEGER} END"
    )


def fields_ok_sql(code: Column) -> str:
    """BOOLEAN: every slot valid (one test for every format)."""
    codes = ", ".join(code(i) for i in range(WIDTH))
    return f"(least({codes}) >= {MISSING} AND greatest({codes}) <= {MAX_COUNT})"


def _objects(f: UsageFormat) -> list[Path]:
    return [path for kind, path in plan(f.fields) if kind == "object"]


class SqlSlots:
    """A :class:`~workmeter.normalize.sqlcounts.Reader` over code columns, for one format."""

    def __init__(self, fields: tuple[Path, ...], code: Column, extra: str = "false") -> None:
        self._index = {p: i for i, (_, p) in enumerate(plan(fields))}
        self._code = code
        self._extra = extra

    def code(self, path: Path) -> str:
        return self._code(self._index[path])

    def count(self, path: Path) -> str:
        return f"greatest({self.code(path)}, 0)"

    def given(self, path: Path) -> str:
        return f"({self.code(path)} <> {MISSING})"

    @property
    def extra(self) -> str:
        return self._extra


def _extra(f: UsageFormat, usage: str) -> str:
    return f.extra_sql(usage) if f.extra_sql is not None else "false"


def _bad_field(kind: str, code: Column) -> str:
    """VARCHAR: the first invalid slot named as fields.read_counts names it (rows that fail fields_ok)."""
    valid = ", ".join(f"{code(i)} BETWEEN {MISSING} AND {MAX_COUNT}" for i in range(WIDTH))
    first = f"list_position([{valid}], false)"
    bad = f"[{', '.join(code(i) for i in range(WIDTH))}][{first}]"
    names = _on(kind, {name: f"[{', '.join(sql_str(describe(p)) for p in _slots(f))}]"
                       for name, f in FORMATS.items()})
    why = (f"CASE {bad} WHEN {NOT_OBJECT} THEN {sql_str(REASONS[NOT_OBJECT])}"
           f" WHEN {NEGATIVE} THEN {sql_str(REASONS[NEGATIVE])}"
           f" ELSE CASE WHEN {bad} > {MAX_COUNT} THEN {sql_str(REASONS[TOO_LARGE])}"
           f" ELSE {sql_str(REASONS[NOT_INTEGER])} END END")
    return f"({names})[{first}] || ' ' || {why}"


def problem_sql(fmt: str, kind: str, usage: str, code: Column) -> str:
    """VARCHAR: NULL when the usage normalizes as format ``fmt``, else the reason.

    ``kind``: the format's code (:func:`format_code_sql`); ``usage``: the usage object's JSON
    text (slot texts come from it); ``code``: the code columns.
    Checks run in the Python order: the usage object, its slots, then the format's own checks.
    """
    def checks(f: UsageFormat) -> str:
        x = SqlSlots(f.fields, code, f"coalesce({_extra(f, usage)}, false)")
        return first_true([(cond, sql_str(why)) for cond, why in f.checks_from(x)])

    usage_problem = first_true([
        (f"NOT coalesce(starts_with({usage}, '{{'), false)", sql_str(USAGE_NOT_OBJECT)),
        (fields_ok_sql(code), _on(kind, {name: checks(f) for name, f in FORMATS.items()})),
    ], otherwise=_bad_field(kind, code))
    return first_true(format_problems(fmt), otherwise=usage_problem)


def bucket_columns_sql(kind: str, code: Column) -> dict[str, str]:
    """BIGINT expression per name in ALL_COUNTS; meaningful where :func:`problem_sql` is NULL."""
    per_format = {name: f.buckets_from(SqlSlots(f.fields, code)) for name, f in FORMATS.items()}
    return {count: _on(kind, {name: b[count] for name, b in per_format.items()}) for count in ALL_COUNTS}
