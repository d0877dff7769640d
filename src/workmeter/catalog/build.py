"""Build a catalog version in memory: list prices + provider rules + price books.

The version id is ``genai-prices-<package version>+<content hash>``: the same
installed data and books always give the same id, so ``prices sync`` is a
no-op when nothing changed and a new immutable version when anything did.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.metadata import version as package_version
from importlib.resources import files

import orjson

from workmeter.catalog.book import Book, parse_book
from workmeter.catalog.genai_import import import_genai
from workmeter.catalog.model import RATED_BUCKETS, Catalog
from workmeter.catalog.overlay import apply_books
from workmeter.catalog.rules import Rules

SHIPPED_RULES = "provider_rules.toml"


def shipped_rules_book() -> Book:
    text = files("workmeter.catalog").joinpath(SHIPPED_RULES).read_text()
    return parse_book(text, name="provider-rules")


def genai_version() -> str:
    return package_version("genai-prices")


def content_hash(catalog: Catalog, books: list[Book]) -> str:
    h = hashlib.sha256()
    for p in catalog.providers.values():
        h.update(orjson.dumps([p.id, p.provider_match, p.model_match, list(p.fallbacks)]))
    for lst in catalog.models.values():
        for m in lst:
            h.update(orjson.dumps([m.provider, m.model, m.match]))
    for r in catalog.all_rows():
        h.update(orjson.dumps([r.provider, r.model, r.service_tier, r.valid_from.isoformat(),
                               r.valid_to.isoformat(), r.tod_lo, r.tod_hi, r.in_lo, r.in_hi,
                               [None if p is None else format(p.normalize(), "f") for p in r.prices]]))
    for b in books:
        h.update(b.content_hash.encode())
    h.update(",".join(RATED_BUCKETS).encode())
    return h.hexdigest()


def build_catalog(books: list[Book] | None = None) -> tuple[Catalog, str, list[Book]]:
    """(catalog, content hash, all books applied incl. the shipped rules)."""
    all_books = [shipped_rules_book(), *(books or [])]
    rules = Rules()
    for b in all_books:
        rules = rules.merged(b.rules)
    providers, models, rows, notes = import_genai(rules)
    providers, models, rows = apply_books(providers, models, rows, all_books, rules)
    draft = Catalog.build("draft", providers, models, rows, notes)
    digest = content_hash(draft, all_books)
    draft.version = f"genai-prices-{genai_version()}+{digest[:12]}"
    return draft, digest, all_books


@lru_cache(maxsize=1)
def list_catalog() -> Catalog:
    """The installed list prices with the shipped rules (no user books), built once per process."""
    return build_catalog()[0]
