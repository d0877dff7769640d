"""Shared rules for formats whose totals INCLUDE their cache and reasoning sub-counts.

OpenAI Chat Completions, OpenAI Responses and the OpenTelemetry GenAI
conventions all report usage the same way: an input total that contains the
cached tokens (and, for OpenTelemetry, the cache-write tokens too) and an
output total that contains the reasoning tokens. They differ only in field
names, so each of those modules declares its fields and builds an
:class:`InclusiveFormat`:

- ``input = input_total − cache_read − cache_write`` (the uncached rest);
- ``cache_read``, ``cache_write_5m`` = the sub-counts (writes carry no TTL in
  these formats; the 5-minute bucket is the standard one);
- ``output = output_total`` (reasoning included), ``reasoning`` = its sub-count.

Rejected: cache sub-counts larger than the input total, reasoning larger than
the output total, and any count that is not a non-negative integer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workmeter.normalize.buckets import Buckets
from workmeter.normalize.fields import Path, describe, ensure, exceeds, read_counts
from workmeter.normalize.sqlcounts import Reader, bind_buckets, bind_problems


@dataclass(frozen=True)
class InclusiveFormat:
    input_total: Path
    cache_read: Path
    output_total: Path
    reasoning: Path
    cache_write: Path | None = None

    @property
    def fields(self) -> tuple[Path, ...]:
        cached = (self.cache_read,) if self.cache_write is None else (self.cache_read, self.cache_write)
        return (self.input_total, *cached, self.output_total, self.reasoning)

    @property
    def cache_too_large(self) -> str:
        parts = [describe(self.cache_read)]
        if self.cache_write is not None:
            parts.append(describe(self.cache_write))
        return exceeds(" + ".join(parts), describe(self.input_total))

    @property
    def reasoning_too_large(self) -> str:
        return exceeds(describe(self.reasoning), describe(self.output_total))

    def normalize(self, usage: Mapping[str, Any]) -> Buckets:
        c = read_counts(usage, self.fields)
        write = 0 if self.cache_write is None else c[self.cache_write]
        ensure(c[self.cache_read] + write <= c[self.input_total], self.cache_too_large)
        ensure(c[self.reasoning] <= c[self.output_total], self.reasoning_too_large)
        return Buckets(
            input=c[self.input_total] - c[self.cache_read] - write,
            cache_read=c[self.cache_read],
            cache_write_5m=write,
            output=c[self.output_total],
            reasoning=c[self.reasoning],
        )

    def _write_sql(self, x: Reader) -> str:
        return "0" if self.cache_write is None else x.count(self.cache_write)

    def buckets_from(self, x: Reader) -> dict[str, str]:
        cached = f"{x.count(self.cache_read)} + {self._write_sql(x)}"
        return {
            "input": f"{x.count(self.input_total)} - ({cached})",
            "cache_read": x.count(self.cache_read),
            "cache_write_5m": self._write_sql(x),
            "cache_write_1h": "0",
            "output": x.count(self.output_total),
            "reasoning": x.count(self.reasoning),
            "web_search": "0",
        }

    def checks_from(self, x: Reader) -> list[tuple[str, str]]:
        cached = f"{x.count(self.cache_read)} + {self._write_sql(x)}"
        return [
            (f"{cached} > {x.count(self.input_total)}", self.cache_too_large),
            (f"{x.count(self.reasoning)} > {x.count(self.output_total)}", self.reasoning_too_large),
        ]

    def sql_buckets(self, u: str) -> dict[str, str]:
        return bind_buckets(u, self.fields, self.buckets_from)

    def sql_problems(self, u: str) -> list[tuple[str, str]]:
        return bind_problems(u, self.fields, self.checks_from)
