"""The usage formats, by name: one module each, one shape for all.

Every format module exposes ``FIELDS`` (the paths it reads, in validation
order), ``normalize(usage) -> Buckets`` (pure Python, raises InvalidUsage),
``buckets_from(x)`` / ``checks_from(x)`` (SQL over a shared
:class:`~workmeter.normalize.sqlcounts.SqlCounts`) and the standalone
``sql_buckets(u)`` / ``sql_problems(u)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workmeter.core.errors import InvalidUsage
from workmeter.normalize import anthropic, direct, gemini, openai_chat, openai_responses, otel
from workmeter.normalize.buckets import DEFAULT_FORMAT_BY_PROVIDER, USAGE_FORMATS, Buckets, implied_format
from workmeter.normalize.fields import Path
from workmeter.normalize.sqlcounts import Reader


@dataclass(frozen=True)
class UsageFormat:
    name: str
    fields: tuple[Path, ...]
    normalize: Callable[[Mapping[str, Any]], Buckets]
    buckets_from: Callable[[Reader], dict[str, str]]
    checks_from: Callable[[Reader], list[tuple[str, str]]]
    #: BOOLEAN SQL over the usage object, read by checks_from as ``x.extra`` (None: unused).
    extra_sql: Callable[[str], str] | None = None


FORMATS: dict[str, UsageFormat] = {
    m.FORMAT: UsageFormat(
        m.FORMAT, tuple(m.FIELDS), m.normalize, m.buckets_from, m.checks_from, getattr(m, "extra_sql", None)
    )
    for m in (anthropic, openai_chat, openai_responses, gemini, otel, direct)
}
if tuple(FORMATS) != USAGE_FORMATS:  # pragma: no cover - a programming error
    raise RuntimeError("every usage format needs exactly one module, in USAGE_FORMATS order")

NO_FORMAT = "usage_format is missing and the provider implies none (" + ", ".join(
    f"{p} → {f}" for p, f in DEFAULT_FORMAT_BY_PROVIDER.items()
) + ")"


def unknown_format(name: str) -> str:
    return f"unknown usage_format '{name}' (expected one of {', '.join(USAGE_FORMATS)})"


def resolve_format(provider: str | None, usage_format: str | None) -> str:
    """The usage format of an event: the one given, else the one its provider implies.

    Raises InvalidUsage for an unknown format, or when none is given and the
    provider implies none (matched ignoring ASCII case, e.g. ``"OpenAI"``;
    see :func:`~workmeter.normalize.buckets.implied_format`).
    """
    if usage_format is None:
        implied = implied_format(provider)
        if implied is None:
            raise InvalidUsage(NO_FORMAT, where="usage_format")
        return implied
    if usage_format not in FORMATS:
        raise InvalidUsage(unknown_format(usage_format), where="usage_format")
    return usage_format


def normalize(usage_format: str, usage: Mapping[str, Any]) -> Buckets:
    """Exclusive buckets of ``usage`` read as ``usage_format``; InvalidUsage when it cannot be."""
    fmt = FORMATS.get(usage_format)
    if fmt is None:
        raise InvalidUsage(unknown_format(usage_format), where="usage_format")
    return fmt.normalize(usage)
