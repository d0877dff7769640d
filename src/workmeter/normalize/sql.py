"""Normalization as set-based SQL: every usage format at once, for DuckDB.

The ledger's ingest splices these expressions into one ``INSERT … SELECT``
over a whole batch; row by row they give exactly what
:func:`workmeter.normalize.normalize` gives in Python (a property test holds
the two together). ``fmt`` is a VARCHAR expression (the usage format, see
:func:`format_sql`), ``u`` a JSON expression (the usage object).

- :func:`format_sql` — the format given, else the one the provider implies.
- :func:`normalized_sql` — one STRUCT: a BIGINT per count in ``ALL_COUNTS``
  and ``problem`` (NULL when the usage normalizes, else the same reason text
  the Python path raises); the counts are meaningful only without a problem
  (NULL for a missing or unknown format). One parse of the usage object.
- :func:`problem_sql`, :func:`bucket_columns_sql` — the same pieces as
  separate expressions, self-contained (each parses the usage object itself).
- :func:`usage_row_sql` — the fastest path for a multi-step query: select
  ``usage_row_sql(fmt, u) AS wm_usage`` once (one parse, every value
  classified), then ``problem_sql(fmt, u, row="wm_usage")`` and
  ``bucket_columns_sql(fmt, u, row="wm_usage")`` in the next step: plain list
  indexing, no further parsing and no lambda (DuckDB runs lambda bodies
  several times slower than plain expressions; the self-contained forms need
  one per row to bind their values).

Every dispatch on the format is a CASE on ``fmt`` outside any lambda, so each
row pays only for its own format.
"""

from __future__ import annotations

from collections.abc import Callable

from workmeter.normalize.buckets import ALL_COUNTS, DEFAULT_FORMAT_BY_PROVIDER, USAGE_FORMATS
from workmeter.normalize.registry import FORMATS, NO_FORMAT, UsageFormat, unknown_format
from workmeter.normalize.sqlcounts import CLASSIFY, SqlCounts, SqlValues, first_true, let, row_sql, sql_str

_KNOWN = ", ".join(sql_str(name) for name in USAGE_FORMATS)


def format_sql(provider: str, usage_format: str) -> str:
    """VARCHAR: ``usage_format`` if not NULL, else the format ``provider`` implies, else NULL.

    The rule of :func:`~workmeter.normalize.buckets.implied_format`: ``lower()``
    matches a name, and the byte length proves the name was ASCII (a non-ASCII
    letter that lowercases to an ASCII one, like ``İ``, takes more bytes), so
    DuckDB's Unicode case mapping never decides. ``provider`` is evaluated
    more than once: pass a column.
    """
    whens = " ".join(
        f"WHEN {sql_str(p)} THEN CASE WHEN strlen({provider}) = {len(p)} THEN {sql_str(f)} END"
        for p, f in DEFAULT_FORMAT_BY_PROVIDER.items()
    )
    return f"coalesce({usage_format}, CASE lower({provider}) {whens} END)"


def _by_format(fmt: str, arm: Callable[[UsageFormat], str], otherwise: str = "NULL") -> str:
    """CASE on ``fmt`` with one arm per usage format."""
    whens = " ".join(f"WHEN {sql_str(name)} THEN {arm(f)}" for name, f in FORMATS.items())
    return f"CASE {fmt} {whens} ELSE {otherwise} END"


def _extra(f: UsageFormat, u: str) -> str:
    return f.extra_sql(u) if f.extra_sql is not None else "false"


def format_problems(fmt: str) -> list[tuple[str, str]]:
    """(condition, reason SQL) for a missing or unknown format."""
    before, after = unknown_format("\0").split("\0")
    return [
        (f"{fmt} IS NULL", sql_str(NO_FORMAT)),
        (f"{fmt} NOT IN ({_KNOWN})", f"{sql_str(before)} || {fmt} || {sql_str(after)}"),
    ]


def usage_row_sql(fmt: str, u: str) -> str:
    """STRUCT expression: the usage row of ``u`` read as format ``fmt`` (one parse)."""
    raw = _by_format(fmt, lambda f: SqlCounts(f.fields).raw(u))
    return row_sql(u, f"list_transform({raw}, {CLASSIFY})", _by_format(fmt, lambda f: _extra(f, u), "false"))


def problem_sql(fmt: str, u: str, row: str | None = None) -> str:
    """VARCHAR expression: NULL when usage ``u`` normalizes as format ``fmt``, else the reason.

    ``row``: an expression holding ``usage_row_sql(fmt, u)``, when the caller selected one.
    """

    def arm(f: UsageFormat) -> str:
        if row is not None:
            x = SqlCounts(f.fields, row)
            return x.problem(f.checks_from(x))
        x = SqlCounts(f.fields)
        return let(x.row_of(u, _extra(f, u)), x.problem(f.checks_from(x)))

    return first_true(format_problems(fmt), otherwise=_by_format(fmt, arm))


def bucket_columns_sql(fmt: str, u: str, row: str | None = None) -> dict[str, str]:
    """BIGINT expression per name in ALL_COUNTS for format ``fmt`` and JSON usage ``u``.

    ``row``: an expression holding ``usage_row_sql(fmt, u)``, when the caller selected one.
    """
    per_format: dict[str, dict[str, str]] = {}
    for name, f in FORMATS.items():
        if row is not None:
            per_format[name] = f.buckets_from(SqlCounts(f.fields, row))
            continue
        values = SqlValues(f.fields)
        built = f.buckets_from(values)
        per_format[name] = {c: e if e.isdigit() else values.bind(u, e) for c, e in built.items()}
    out: dict[str, str] = {}
    for count in ALL_COUNTS:
        whens = " ".join(f"WHEN {sql_str(name)} THEN {b[count]}" for name, b in per_format.items())
        out[count] = f"CASE {fmt} {whens} END"
    return out


def normalized_sql(fmt: str, u: str) -> str:
    """STRUCT expression: a BIGINT field per name in ALL_COUNTS and ``problem`` (VARCHAR), one parse."""

    def arm(f: UsageFormat) -> str:
        x = SqlCounts(f.fields)
        buckets = f.buckets_from(x)
        fields = ", ".join(f"'{c}': {buckets[c]}" for c in ALL_COUNTS)
        return let(x.row_of(u, _extra(f, u)), f"{{{fields}, 'problem': {x.problem(f.checks_from(x))}}}")

    nulls = ", ".join(f"'{c}': NULL::BIGINT" for c in ALL_COUNTS)
    unusable = [(cond, f"{{{nulls}, 'problem': {reason}}}") for cond, reason in format_problems(fmt)]
    return first_true(unusable, otherwise=_by_format(fmt, arm))
