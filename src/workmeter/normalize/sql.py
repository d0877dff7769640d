"""Normalization as set-based SQL: every usage format at once, for DuckDB.

The ledger's ingest splices these expressions into one ``INSERT … SELECT``
over a whole batch; row by row they give exactly what
:func:`workmeter.normalize.normalize` gives in Python (a property test holds
the two together):

- :func:`format_sql` — the row's usage format: the one given, else the one
  its provider implies (NULL when neither).
- :func:`problem_sql` — NULL when the row's usage normalizes, else the same
  reason text the Python path raises (unknown format, usage not an object, a
  bad count, an inconsistent sub-count).
- :func:`bucket_columns_sql` — a BIGINT expression per count in ``ALL_COUNTS``;
  meaningful only where :func:`problem_sql` is NULL (NULL for unknown formats).
- :func:`normalized_sql` — all of the above in one STRUCT expression, the
  cheapest to plan: select it once in a subquery and read its fields outside.

Speed: each row's usage object is parsed once, with the paths of its own
format only (one ``json_extract`` with a path list), the classified values are
bound once per row and every rule runs on the bound integers. The separate
column expressions repeat identical row text, which DuckDB's
common-subexpression elimination evaluates once.
"""

from __future__ import annotations

from workmeter.normalize.buckets import ALL_COUNTS, DEFAULT_FORMAT_BY_PROVIDER, USAGE_FORMATS
from workmeter.normalize.registry import FORMATS, NO_FORMAT, unknown_format
from workmeter.normalize.sqlcounts import FMT, SqlCounts, first_true, let, row_sql, sql_str

_LAYOUTS = {name: SqlCounts(f.fields) for name, f in FORMATS.items()}
_KNOWN = ", ".join(sql_str(name) for name in USAGE_FORMATS)


def format_sql(provider: str, usage_format: str) -> str:
    """VARCHAR: ``usage_format`` if not NULL, else the format ``provider`` implies, else NULL."""
    whens = " ".join(f"WHEN {sql_str(p)} THEN {sql_str(f)}" for p, f in DEFAULT_FORMAT_BY_PROVIDER.items())
    return f"coalesce({usage_format}, CASE {provider} {whens} END)"


def _row(fmt: str, u: str) -> str:
    whens = " ".join(f"WHEN {sql_str(name)} THEN {x.extract(u)}" for name, x in _LAYOUTS.items())
    return row_sql(u, f"CASE {fmt} {whens} END", fmt)


def _by_format(arms: dict[str, str]) -> str:
    return f"CASE {FMT} " + " ".join(f"WHEN {sql_str(n)} THEN {e}" for n, e in arms.items()) + " END"


def _bucket(count: str) -> str:
    return _by_format({name: FORMATS[name].buckets_from(x)[count] for name, x in _LAYOUTS.items()})


def _problem() -> str:
    def arm(name: str, x: SqlCounts) -> str:
        checks = [(cond, sql_str(reason)) for cond, reason in FORMATS[name].checks_from(x)]
        return f"coalesce({x.field_problem()}, {first_true(checks)})"

    before, after = unknown_format("\0").split("\0")
    return first_true(
        [(f"{FMT} IS NULL", sql_str(NO_FORMAT)),
         (f"{FMT} NOT IN ({_KNOWN})", f"{sql_str(before)} || {FMT} || {sql_str(after)}")],
        otherwise=_by_format({name: arm(name, x) for name, x in _LAYOUTS.items()}),
    )


def bucket_columns_sql(fmt: str, u: str) -> dict[str, str]:
    """BIGINT expression per name in ALL_COUNTS for format expression ``fmt`` and JSON usage ``u``."""
    row = _row(fmt, u)
    return {count: let(row, _bucket(count)) for count in ALL_COUNTS}


def problem_sql(fmt: str, u: str) -> str:
    """VARCHAR expression: NULL when usage ``u`` normalizes as format ``fmt``, else the reason."""
    return let(_row(fmt, u), _problem())


def normalized_sql(fmt: str, u: str) -> str:
    """STRUCT expression with a BIGINT field per name in ALL_COUNTS and ``problem`` VARCHAR."""
    fields = ", ".join(f"'{count}': {_bucket(count)}" for count in ALL_COUNTS)
    return let(_row(fmt, u), f"{{{fields}, 'problem': {_problem()}}}")
