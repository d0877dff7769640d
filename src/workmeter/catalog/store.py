"""Catalog tables: immutable versions of providers, models and price rows.

A version is written once (one transaction) and never changed. Prices are
``DECIMAL(38, 18)`` per million units, ``NULL`` = no price. The *current*
version is the one written last, unless a later sync selected an older one
again (``catalog_selections``: a sync whose content equals a stored version).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from workmeter.catalog.model import RATED_BUCKETS, Catalog, ModelEntry, PriceRow, ProviderEntry
from workmeter.store.duckdb import Database, register_ddl

PRICE_COLS = ", ".join(f'"{b}" DECIMAL(38, 18)' for b in RATED_BUCKETS)

DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS catalog_versions (
    "version" VARCHAR PRIMARY KEY, "created_at" TIMESTAMPTZ, "genai_prices_version" VARCHAR,
    "content_hash" VARCHAR, "books" JSON, "row_count" BIGINT)""",
    """CREATE TABLE IF NOT EXISTS catalog_providers (
    "version" VARCHAR, "position" INTEGER, "provider" VARCHAR, "provider_match" JSON, "model_match" JSON,
    "fallbacks" VARCHAR[])""",
    """CREATE TABLE IF NOT EXISTS catalog_models (
    "version" VARCHAR, "position" INTEGER, "provider" VARCHAR, "model" VARCHAR, "match" JSON, "name" VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS catalog_prices (
    "version" VARCHAR, "provider" VARCHAR, "model" VARCHAR, "service_tier" VARCHAR,
    "valid_from" TIMESTAMPTZ, "valid_to" TIMESTAMPTZ, "tod_lo" BIGINT, "tod_hi" BIGINT,
    "in_lo" BIGINT, "in_hi" BIGINT, {PRICE_COLS}, "source" VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS catalog_books (
    "version" VARCHAR, "position" INTEGER, "name" VARCHAR, "content_hash" VARCHAR, "text" VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS catalog_notes (
    "version" VARCHAR, "provider" VARCHAR, "model" VARCHAR, "note" VARCHAR)""",
    # an existing version made current again by a sync (e.g. after removing a book)
    """CREATE TABLE IF NOT EXISTS catalog_selections (
    "seq" BIGINT, "version" VARCHAR, "selected_at" TIMESTAMPTZ)""",
)
register_ddl(*DDL)

def _rows_table(version: str, rows: list[PriceRow]) -> Any:
    import pyarrow as pa

    dec, ts = pa.decimal128(38, 18), pa.timestamp("us", tz="UTC")
    cols: dict[str, Any] = {
        "version": pa.array([version] * len(rows), pa.string()),
        "provider": pa.array([r.provider for r in rows], pa.string()),
        "model": pa.array([r.model for r in rows], pa.string()),
        "service_tier": pa.array([r.service_tier for r in rows], pa.string()),
        "valid_from": pa.array([r.valid_from for r in rows], ts),
        "valid_to": pa.array([r.valid_to for r in rows], ts),
        "tod_lo": pa.array([r.tod_lo for r in rows], pa.int64()),
        "tod_hi": pa.array([r.tod_hi for r in rows], pa.int64()),
        "in_lo": pa.array([r.in_lo for r in rows], pa.int64()),
        "in_hi": pa.array([r.in_hi for r in rows], pa.int64()),
    }
    for i, b in enumerate(RATED_BUCKETS):
        cols[b] = pa.array([r.prices[i] for r in rows], dec)
    cols["source"] = pa.array([r.source for r in rows], pa.string())
    return pa.table(cols)


def version_exists(db: Database, version: str) -> bool:
    row = db.read().execute("SELECT count(*) FROM catalog_versions WHERE version = ?", [version]).fetchone()
    return bool(row and row[0])


def write_version(db: Database, catalog: Catalog, *, genai_version: str, content_hash: str,
                  books: list[tuple[str, str, str]]) -> None:
    """Persist a new version (books: (name, hash, text)). One transaction."""
    import pyarrow as pa

    v = catalog.version
    rows = catalog.all_rows()
    table = _rows_table(v, rows)
    with db.write() as con:
        con.execute("INSERT INTO catalog_versions VALUES (?, ?, ?, ?, ?, ?)",
                    [v, datetime.now(UTC), genai_version, content_hash,
                     orjson.dumps([{"name": n, "hash": h} for n, h, _ in books]).decode(), len(rows)])
        providers = list(catalog.providers.values())
        _insert(con, "catalog_providers", pa.table({
            "version": [v] * len(providers), "position": list(range(len(providers))),
            "provider": [p.id for p in providers], "provider_match": [_j(p.provider_match) for p in providers],
            "model_match": [_j(p.model_match) for p in providers],
            "fallbacks": pa.array([list(p.fallbacks) for p in providers], pa.list_(pa.string()))}))
        models = [m for lst in catalog.models.values() for m in lst]
        _insert(con, "catalog_models", pa.table({
            "version": [v] * len(models), "position": list(range(len(models))),
            "provider": [m.provider for m in models], "model": [m.model for m in models],
            "match": [_j(m.match) for m in models], "name": pa.array([m.name for m in models], pa.string())}))
        _insert(con, "catalog_prices", table)
        if books:
            con.executemany("INSERT INTO catalog_books VALUES (?, ?, ?, ?, ?)",
                            [[v, i, n, h, t] for i, (n, h, t) in enumerate(books)])
        if catalog.notes:
            con.executemany("INSERT INTO catalog_notes VALUES (?, ?, ?, ?)",
                            [[v, n["provider"], n["model"], n["note"]] for n in catalog.notes])


def _insert(con: Any, name: str, table: Any) -> None:
    con.register("_wm_catalog_batch", table)
    con.execute(f"INSERT INTO {name} SELECT * FROM _wm_catalog_batch")
    con.unregister("_wm_catalog_batch")


def _j(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _load_json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def load_version(db: Database, version: str) -> Catalog:
    cur = db.read()
    providers = [ProviderEntry(p, _load_json(pm), _load_json(mm), tuple(fb or ()))
                 for p, pm, mm, fb in cur.execute(
                     "SELECT provider, provider_match, model_match, fallbacks FROM catalog_providers "
                     "WHERE version = ? ORDER BY position", [version]).fetchall()]
    models = [ModelEntry(p, m, _load_json(match), name) for p, m, match, name in cur.execute(
        "SELECT provider, model, match, name FROM catalog_models WHERE version = ? ORDER BY position",
        [version]).fetchall()]
    cols = ", ".join(f'"{b}"' for b in RATED_BUCKETS)
    rows = [_row(r) for r in cur.execute(
        "SELECT provider, model, service_tier, valid_from, valid_to, tod_lo, tod_hi, in_lo, in_hi, "
        f"source, {cols} FROM catalog_prices WHERE version = ?", [version]).fetchall()]
    notes = [{"provider": p, "model": m, "note": n} for p, m, n in cur.execute(
        "SELECT provider, model, note FROM catalog_notes WHERE version = ?", [version]).fetchall()]
    return Catalog.build(version, providers, models, rows, notes)


def _row(r: tuple[Any, ...]) -> PriceRow:
    prices = tuple(None if p is None else Decimal(p).normalize() for p in r[10:])
    return PriceRow(r[0], r[1], r[2], r[3].astimezone(UTC), r[4].astimezone(UTC), prices,
                    r[5], r[6], r[7], r[8], r[9])


def select_version(db: Database, version: str) -> None:
    """Make a stored version current again (it stays immutable)."""
    with db.write() as con:
        row = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM catalog_selections").fetchone()
        con.execute("INSERT INTO catalog_selections VALUES (?, ?, ?)", [row[0] if row else 1, version,
                                                                       datetime.now(UTC)])


def current_version(db: Database) -> str | None:
    """The version written or selected last."""
    row = db.read().execute(
        'SELECT "version" FROM (SELECT "version", created_at AS moment, 0 AS seq FROM catalog_versions '
        'UNION ALL SELECT "version", selected_at, seq FROM catalog_selections) '
        'ORDER BY moment DESC, seq DESC, "version" DESC LIMIT 1').fetchone()
    return None if row is None else str(row[0])


def versions(db: Database) -> list[dict[str, Any]]:
    cur = db.read()
    rows = cur.execute("SELECT version, created_at, genai_prices_version, content_hash, books, row_count "
                       "FROM catalog_versions ORDER BY created_at, version").fetchall()
    return [{"version": v, "created_at": c, "genai_prices_version": g, "content_hash": h,
             "books": _load_json(b), "rows": n} for v, c, g, h, b, n in rows]
