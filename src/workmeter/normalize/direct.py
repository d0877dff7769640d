"""Buckets given directly (``usage_format = "buckets"``).

For callers that already hold exclusive buckets (a gateway, a custom model
server, a replay of workmeter's own data)::

    {"input": 120, "cache_read": 4000, "cache_write_5m": 0, "cache_write_1h": 0,
     "output": 800, "reasoning": 300, "web_search": 1}

Rules: the keys are exactly the bucket names (``input``, ``cache_read``,
``cache_write_5m``, ``cache_write_1h``, ``output``, ``reasoning``,
``web_search``); each is optional (missing or null is 0) and already
exclusive, so it is copied as is. ``reasoning`` is the informational part of
``output`` and must not exceed it.

Rejected: any other key (a typo such as ``cache_reads`` would otherwise bill
nothing), ``reasoning > output``, and any count that is not a non-negative
integer (see :mod:`workmeter.normalize.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workmeter.core.errors import InvalidUsage
from workmeter.normalize.buckets import ALL_COUNTS, Buckets
from workmeter.normalize.fields import describe, ensure, exceeds, read_counts
from workmeter.normalize.sqlcounts import Reader, bind_buckets, bind_problems, sql_str

FORMAT = "buckets"

FIELDS = tuple((name,) for name in ALL_COUNTS)
REASONING_EXCEEDS_OUTPUT = exceeds(describe(("reasoning",)), describe(("output",)))
UNKNOWN_KEY = "usage has a key that is not a bucket name (expected one of " + ", ".join(ALL_COUNTS) + ")"


def normalize(usage: Mapping[str, Any]) -> Buckets:
    """The buckets given, validated; InvalidUsage if inconsistent."""
    c = read_counts(usage, FIELDS)
    unknown = [key for key in usage if key not in ALL_COUNTS]
    if unknown:
        raise InvalidUsage(UNKNOWN_KEY, where=describe((str(unknown[0]),)))
    ensure(c[("reasoning",)] <= c[("output",)], REASONING_EXCEEDS_OUTPUT)
    return Buckets(**{name: c[(name,)] for name in ALL_COUNTS})


def buckets_from(x: Reader) -> dict[str, str]:
    """BIGINT expression per count name, over the counts ``x`` reads."""
    return {name: x.count((name,)) for name in ALL_COUNTS}


def extra_sql(u: str) -> str:
    """BOOLEAN over the JSON usage ``u``: it has a key that is not a bucket name (bound as ``x``).

    Lists the object's keys: a second parse, so callers compute it only for rows of this format.
    """
    known = ", ".join(sql_str(name) for name in ALL_COUNTS)
    keys = f"json_keys(coalesce({u}, '{{}}'::JSON))"
    return f"len(list_filter({keys}, lambda k: NOT list_contains([{known}], k))) > 0"


def checks_from(x: Reader) -> list[tuple[str, str]]:
    """(condition, reason) pairs checked after the fields, in the order :func:`normalize` checks them."""
    return [
        (x.extra, UNKNOWN_KEY),
        (f"{x.count(('reasoning',))} > {x.count(('output',))}", REASONING_EXCEEDS_OUTPUT),
    ]


def sql_buckets(u: str) -> dict[str, str]:
    """BIGINT SQL expression per name in ALL_COUNTS, for the JSON usage expression ``u``."""
    return bind_buckets(u, FIELDS, buckets_from)


def sql_problems(u: str) -> list[tuple[str, str]]:
    """(SQL condition, reason) pairs; the first true one rejects the usage object."""
    return bind_problems(u, FIELDS, checks_from, extra_sql(u))
