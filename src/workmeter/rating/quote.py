"""Quotes: price a usage object (or a file of them) without touching the ledger.

A quote normalizes the provider's native usage object into buckets
(:mod:`workmeter.normalize`) and rates it with the reference rater under the
current rating run, so a quote equals what the ledger would charge for the
same call. The result is::

    {"status": "priced", "total": "0.054399", "currency": "USD",
     "catalog_version": "...", "lines": [{"bucket": "input", "quantity": 3,
     "unit_price_per_million": "3", "amount": "0.000009"}, ...]}

or ``{"status": "unpriced", "reason": "..."}``; a line that cannot be read
gives ``{"status": "invalid", "error": {"code": ..., "message": ...}}``.
``total`` is exact (never rounded; rounding happens at invoice time).
Non-token lines (``web_search``, ``request``) are priced per request; their
``unit_price_per_million`` is per million requests.

Batch quoting caches each (provider, model, tier) card, so a file of 100k
lines is priced without re-resolving models.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from workmeter.core.errors import InvalidInput, WorkmeterError
from workmeter.core.timeutil import parse_instant
from workmeter.normalize import normalize, resolve_format
from workmeter.normalize.buckets import Buckets
from workmeter.rating.card import CardRow, Segment, card
from workmeter.rating.reference import find_row, price_with


class Quoter:
    """Prices usage under fixed rating segments; cards are cached per ledger key."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = list(segments)
        self._cards: dict[tuple[str | None, str | None, str | None], list[CardRow]] = {}

    def _card(self, provider: str | None, model: str | None, tier: str | None) -> list[CardRow]:
        key = (provider, model, tier)
        rows = self._cards.get(key)
        if rows is None:
            rows = self._cards[key] = card(self.segments, provider, model, tier)
        return rows

    def rate_buckets(self, provider: str | None, model: str | None, buckets: Buckets, at: datetime,
                     service_tier: str | None = None) -> dict[str, Any]:
        """The quote result (issue JSON shape) for already-normalized buckets."""
        row = find_row(self._card(provider, model, service_tier), at, buckets)
        return price_with(row, buckets).as_dict()

    def quote(self, provider: str | None, model: str | None, at: datetime | str | None,
              usage: Mapping[str, Any], usage_format: str | None = None,
              service_tier: str | None = None) -> dict[str, Any]:
        """Normalize ``usage`` and price it; raises InvalidInput/InvalidUsage for unreadable input."""
        if not isinstance(usage, Mapping):
            raise InvalidInput("usage must be a JSON object", where="usage")
        when = _instant(at)
        buckets = normalize(resolve_format(provider, usage_format), usage)
        return self.rate_buckets(provider, model, buckets, when, service_tier)

    def quote_line(self, line: bytes | str) -> dict[str, Any]:
        """One ndjson line → one result; problems are results, never exceptions."""
        try:
            item = orjson.loads(line)
            if not isinstance(item, dict):
                raise InvalidInput("each line must be a JSON object")
            return self.quote(item.get("provider"), item.get("model"), item.get("at"), item.get("usage") or {},
                              item.get("usage_format"), item.get("service_tier"))
        except orjson.JSONDecodeError as exc:
            return {"status": "invalid", "error": {"code": "invalid_input", "message": f"not JSON: {exc}"}}
        except WorkmeterError as exc:
            return {"status": "invalid", "error": exc.to_dict()}

    def quote_lines(self, lines: Iterable[bytes | str]) -> Iterator[dict[str, Any]]:
        for line in lines:
            if line.strip():
                yield self.quote_line(line)


def _instant(at: datetime | str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    if not isinstance(at, str):
        raise InvalidInput("at must be an RFC 3339 time string", where="at")
    return parse_instant(at, field="at")
