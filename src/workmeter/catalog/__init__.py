"""The dated price catalog: list prices from genai-prices, provider rules, price books.

A catalog *version* is immutable and content-addressed
(``genai-prices-<version>+<hash>``); ``workmeter prices sync`` records a new
one only when the installed data or the price books changed. Public surface:

* :class:`~workmeter.catalog.model.Catalog`, :class:`~workmeter.catalog.model.PriceRow`
  — one version in memory; prices per million units per bucket, ``None`` = no price;
* :func:`~workmeter.catalog.aliases.resolve` — (provider, model) strings → catalog model;
* :class:`~workmeter.catalog.service.CatalogService` (``Workmeter.catalog``) —
  ``sync``, ``versions``, ``latest_version``, ``load``, ``show``;
* :func:`~workmeter.catalog.build.list_catalog` — the installed list prices in memory
  (no database), e.g. for quotes in tests;
* :func:`~workmeter.catalog.book.parse_book` — a TOML price book;
* :func:`~workmeter.catalog.check.check_catalog` — overlaps and holes.
"""

from __future__ import annotations

from workmeter.catalog.model import (
    RATED_BUCKETS,
    Catalog,
    ModelEntry,
    PriceRow,
    ProviderEntry,
    canonical_tier,
)

__all__ = ["RATED_BUCKETS", "Catalog", "ModelEntry", "PriceRow", "ProviderEntry", "canonical_tier"]
