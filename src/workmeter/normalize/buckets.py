"""Exclusive token buckets: the one shape every provider's usage becomes.

Buckets never overlap, so ``cost = Σ bucket × price``:

=================  ==========================================================
``input``          uncached input tokens
``cache_read``     input tokens served from the prompt cache
``cache_write_5m`` input tokens written to a 5-minute cache
``cache_write_1h`` input tokens written to a 1-hour cache
``output``         output tokens, reasoning/thinking included
``web_search``     web search requests (a unit, not tokens)
=================  ==========================================================

``reasoning`` is an informational sub-count of ``output``: it is never priced
separately and never added again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Priced buckets, in display order. ``reasoning`` is not among them (it is inside output).
PRICED_BUCKETS: tuple[str, ...] = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "output",
    "web_search",
)
TOKEN_BUCKETS: tuple[str, ...] = PRICED_BUCKETS[:5]
#: Every stored count column, priced or informational.
ALL_COUNTS: tuple[str, ...] = (*TOKEN_BUCKETS, "reasoning", "web_search")

USAGE_FORMATS: tuple[str, ...] = (
    "anthropic",
    "openai-chat",
    "openai-responses",
    "gemini",
    "otel",
    "buckets",
)

#: The usage format a provider implies when ``usage_format`` is omitted (keys in lower case).
DEFAULT_FORMAT_BY_PROVIDER: dict[str, str] = {
    "anthropic": "anthropic",
    "openai": "openai-chat",
    "google": "gemini",
}


def implied_format(provider: str | None) -> str | None:
    """The usage format ``provider`` implies, or None.

    The name matches ignoring the case of ASCII letters (``"Anthropic"``,
    ``"OPENAI"``); a name with any other character implies nothing, so that
    Unicode case rules (``"OpenAİ"``) never differ between Python and SQL
    (:func:`workmeter.normalize.sql.format_sql` is the same rule).
    """
    if provider is None or not provider.isascii():
        return None
    return DEFAULT_FORMAT_BY_PROVIDER.get(provider.lower())


@dataclass(frozen=True, slots=True)
class Buckets:
    input: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0
    reasoning: int = 0
    web_search: int = 0

    @property
    def total_input(self) -> int:
        """All input tokens, cached or not: what long-context thresholds count."""
        return self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h

    @property
    def total_tokens(self) -> int:
        return self.total_input + self.output

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
