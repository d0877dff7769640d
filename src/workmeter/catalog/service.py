"""The catalog service: sync versions, load them, show price cards, check coverage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workmeter.catalog import store
from workmeter.catalog.aliases import resolve
from workmeter.catalog.book import Book, parse_book
from workmeter.catalog.model import RATED_BUCKETS, UNITS, Catalog, canonical_tier
from workmeter.core.errors import InvalidInput, NotFound
from workmeter.store.duckdb import Database


@dataclass(frozen=True)
class SyncResult:
    version: str
    created: bool
    previous: str | None
    rows: int

    @property
    def changed(self) -> bool:
        """The current version is another one than before (new, or an older one selected again)."""
        return self.version != self.previous

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "created": self.created, "previous": self.previous,
                "changed": self.changed, "rows": self.rows}


class CatalogService:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure(*store.DDL)
        self._cache: dict[str, Catalog] = {}

    # versions -----------------------------------------------------------
    def versions(self) -> list[dict[str, Any]]:
        return store.versions(self.db)

    def latest_version(self) -> str | None:
        """The current version: the one written last, or an older one a later sync selected again."""
        return store.current_version(self.db)

    def load(self, version: str | None = None) -> Catalog:
        """A version in memory (the latest when None); cached, as versions never change."""
        version = version or self.latest_version()
        if version is None:
            raise NotFound("no catalog version yet: run `workmeter prices sync`")
        if version not in self._cache:
            if not store.version_exists(self.db, version):
                raise NotFound(f"unknown catalog version {version!r}", where="--catalog-version")
            self._cache[version] = store.load_version(self.db, version)
        return self._cache[version]

    def _stored_books(self, version: str | None) -> list[Book]:
        if version is None:
            return []
        rows = self.db.read().execute(
            "SELECT name, text FROM catalog_books WHERE version = ? AND name <> 'provider-rules' "
            "ORDER BY position", [version]).fetchall()
        return [parse_book(text, name=name) for name, text in rows]

    def sync(self, book_paths: list[Path] | None = None) -> SyncResult:
        """Import the installed list prices (+ books) as a new version when anything changed.

        Without ``book_paths`` the books of the latest version are kept.
        """
        previous = self.latest_version()
        if book_paths is None:
            return self._sync(self._stored_books(previous), previous)
        books = []
        for p in book_paths:
            try:
                books.append(parse_book(Path(p).read_text(encoding="utf-8"), name=Path(p).stem, file=str(p)))
            except OSError as exc:
                raise InvalidInput(f"cannot read price book: {exc}", where=str(p)) from None
        return self._sync(books, previous)

    def books(self, version: str | None = None) -> list[dict[str, Any]]:
        """The price books of a version (the latest when None), in the order they apply."""
        version = version or self.latest_version()
        if version is None:
            return []
        rows = self.db.read().execute(
            "SELECT position, name, content_hash, length(text) FROM catalog_books "
            "WHERE version = ? AND name <> 'provider-rules' ORDER BY position", [version]).fetchall()
        return [{"name": n, "position": i, "content_hash": h, "size": size, "version": version}
                for i, (_, n, h, size) in enumerate(rows)]

    def remove_books(self, names: list[str] | None = None) -> SyncResult:
        """A new version without the named books (every book when ``names`` is None).

        The other books are kept as stored. An unknown name is :class:`NotFound`;
        as with any sync, rated usage keeps its catalog until a ``rerate``.
        """
        previous = self.latest_version()
        books = self._stored_books(previous)
        if names is not None:
            missing = sorted(set(names) - {b.name for b in books})
            if missing:
                have = ", ".join(b.name for b in books) or "none"
                raise NotFound(f"no price book {', '.join(map(repr, missing))} in the latest catalog version "
                               f"(its books: {have})", where=missing[0])
            books = [b for b in books if b.name not in set(names)]
        else:
            books = []
        return self._sync(books, previous)

    def _sync(self, books: list[Book], previous: str | None) -> SyncResult:
        from workmeter.catalog.build import build_catalog, genai_version

        catalog, digest, all_books = build_catalog(books)
        rows = len(catalog.all_rows())
        if store.version_exists(self.db, catalog.version):
            if catalog.version != previous:  # the same content as an older version: current again
                store.select_version(self.db, catalog.version)
            return SyncResult(catalog.version, False, previous, rows)
        store.write_version(self.db, catalog, genai_version=genai_version(), content_hash=digest,
                            books=[(b.name, b.content_hash, b.text) for b in all_books])
        self._cache[catalog.version] = catalog
        return SyncResult(catalog.version, True, previous, rows)

    # reports ------------------------------------------------------------
    def show(self, model: str, provider: str | None = None, at: datetime | None = None,
             service_tier: str | None = None, version: str | None = None) -> dict[str, Any]:
        """The effective price card of a model at a time (every tier, every window and input range)."""
        catalog = self.load(version)
        entry = resolve(catalog, provider, model)
        if entry is None:
            raise NotFound(f"unknown model {model!r}" + (f" for provider {provider!r}" if provider else ""))
        at = at or datetime.now(UTC)
        tiers = [canonical_tier(service_tier)] if service_tier else catalog.tiers_of(entry.provider, entry.model)
        rows = []
        for tier in tiers:
            for r in catalog.rows.get((entry.provider, entry.model, tier), ()):
                if r.valid_from <= at < r.valid_to:
                    rows.append(price_card_row(r))
        return {"provider": entry.provider, "model": entry.model, "name": entry.name, "at": at,
                "catalog_version": catalog.version, "rows": rows}


def _hhmm(us: int) -> str:
    minutes = us // 60_000_000
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


SHORT = {"input": "input", "cache_read": "cache read", "cache_write_5m": "write 5m",
         "cache_write_1h": "write 1h", "output": "output", "web_search": "search/req", "request": "fee/req"}


def price_card_row(r: Any) -> dict[str, Any]:
    """One price row for display: tier, validity, window, input range, prices (per MTok or per request)."""
    out: dict[str, Any] = {"tier": r.service_tier,
                           "from": None if r.valid_from.year == 1 else r.valid_from.date().isoformat(),
                           "to": None if r.valid_to.year == 9999 else r.valid_to.date().isoformat(),
                           "window_utc": None if (r.tod_lo, r.tod_hi) == (0, 86_400_000_000)
                           else f"{_hhmm(r.tod_lo)}-{_hhmm(r.tod_hi)}",
                           "total_input": _input_range(r.in_lo, r.in_hi)}
    for b, p in zip(RATED_BUCKETS, r.prices, strict=True):
        out[SHORT[b]] = None if p is None else (p if UNITS[b] == "token" else p / 1_000_000)
    out["source"] = r.source
    return out


def _input_range(lo: int, hi: int) -> str:
    if lo == 0 and hi >= 2**62:
        return "any"
    if hi >= 2**62:
        return f">= {lo:,}"
    return f"{lo:,} – {hi - 1:,}"
