"""API keys: scoped, optionally bound to one customer, stored hashed, revocable.

A key looks like ``wm_<id>_<secret>``. Only ``wm_<id>`` (the *prefix*) is ever
shown again after creation; the secret is stored as
``sha256(salt || secret)`` with a random 16-byte salt per key, and compared in
constant time.

Rules:

* scopes: ``ingest`` may only post events; ``read`` may only read;
  ``admin`` may do everything (manage customers, plans, invoices and keys).
* a key bound to a customer sees only that customer's data and may only
  ingest events whose ``subject`` is that customer. A bound key cannot be
  ``admin`` (admin manages every tenant).
* a revoked key never authenticates again.
* last-used times are kept in memory by :meth:`KeyStore.touch` and written by
  :meth:`KeyStore.flush_last_used` (the server flushes every few seconds and at
  shutdown), so authenticating never opens a write transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workmeter.core.errors import InvalidInput, NotFound
from workmeter.store.duckdb import Database, register_ddl

SCOPES: tuple[str, ...] = ("ingest", "read", "admin")
PREFIX = "wm_"
#: Seconds a verified key is trusted without another database read (revoking clears it).
VERIFY_CACHE_SECONDS = 5.0

DDL = """CREATE TABLE IF NOT EXISTS api_keys (
    "id" VARCHAR, "name" VARCHAR, "scope" VARCHAR, "customer" VARCHAR,
    "salt" VARCHAR, "hash" VARCHAR, "created_at" TIMESTAMPTZ,
    "revoked_at" TIMESTAMPTZ, "last_used_at" TIMESTAMPTZ)"""

register_ddl(DDL)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    name: str | None
    scope: str
    customer: str | None
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.id}"

    def allows(self, scope: str) -> bool:
        """``admin`` allows everything; otherwise the scope must match exactly."""
        return self.scope == "admin" or self.scope == scope

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prefix": self.prefix,
            "name": self.name,
            "scope": self.scope,
            "customer": self.customer,
            "created_at": _iso(self.created_at),
            "revoked_at": _iso(self.revoked_at),
            "last_used_at": _iso(self.last_used_at),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """``wm_<id>_<secret>`` → ``(id, secret)``, or None when it is not a workmeter key."""
    if not raw.startswith(PREFIX):
        return None
    key_id, sep, secret = raw[len(PREFIX):].partition("_")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


class KeyStore:
    """Create, list, revoke and verify API keys."""

    _COLS = "id, name, scope, customer, created_at, revoked_at, last_used_at"

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure(DDL)
        self._used: dict[str, datetime] = {}
        self._verified: dict[str, tuple[ApiKey, float]] = {}  # not money: monotonic clock reading
        self._lock = threading.Lock()

    def create(self, scope: str, *, customer: str | None = None, name: str | None = None) -> tuple[ApiKey, str]:
        """Store a new key; returns it and the full secret key (shown once, never stored)."""
        if scope not in SCOPES:
            raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}", where="scope")
        if customer is not None and not customer.strip():
            raise InvalidInput("customer must not be empty", where="customer")
        if customer is not None and scope == "admin":
            raise InvalidInput("an admin key cannot be bound to a customer", where="customer")
        key_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_hex(16)
        now = datetime.now(UTC)
        with self.db.write() as con:
            con.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                [key_id, name, scope, customer, salt, _digest(salt, secret), now],
            )
        key = ApiKey(key_id, name, scope, customer, now)
        return key, f"{PREFIX}{key_id}_{secret}"

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        rows = self.db.read().execute(f"SELECT {self._COLS} FROM api_keys {where} ORDER BY created_at, id").fetchall()
        return [self._with_usage(ApiKey(*row)) for row in rows]

    def get(self, key_id: str) -> ApiKey:
        key_id = key_id.removeprefix(PREFIX)
        row = self.db.read().execute(f"SELECT {self._COLS} FROM api_keys WHERE id = ?", [key_id]).fetchone()
        if row is None:
            raise NotFound(f"no API key {key_id!r}", where="key")
        return self._with_usage(ApiKey(*row))

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by id or prefix (idempotent: revoking twice keeps the first time)."""
        key = self.get(key_id)
        if key.revoked_at is None:
            with self.db.write() as con:
                con.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", [datetime.now(UTC), key.id])
        with self._lock:
            self._verified.clear()
        return self.get(key.id)

    def verify(self, raw: str) -> ApiKey | None:
        """The live key for a presented secret key, or None (unknown, wrong secret, revoked)."""
        token = hashlib.sha256(raw.encode()).hexdigest()
        with self._lock:
            hit = self._verified.get(token)
        if hit is not None and time.monotonic() - hit[1] < VERIFY_CACHE_SECONDS:
            return hit[0]
        key = self._verify_stored(raw)
        if key is not None:
            with self._lock:
                if len(self._verified) > 10_000:
                    self._verified.clear()
                self._verified[token] = (key, time.monotonic())
        return key

    def _verify_stored(self, raw: str) -> ApiKey | None:
        parts = split_key(raw.strip())
        if parts is None:
            return None
        key_id, secret = parts
        row = self.db.read().execute(
            f"SELECT {self._COLS}, salt, hash FROM api_keys WHERE id = ?", [key_id]
        ).fetchone()
        if row is None or not hmac.compare_digest(_digest(row[7], secret), row[8]):
            return None
        key = ApiKey(*row[:7])
        return None if key.revoked_at is not None else key

    def touch(self, key_id: str) -> None:
        """Remember that a key was used now (written by :meth:`flush_last_used`)."""
        with self._lock:
            self._used[key_id] = datetime.now(UTC)

    def flush_last_used(self) -> int:
        """Write remembered last-used times; returns how many keys were updated."""
        with self._lock:
            used, self._used = self._used, {}
        if used:
            with self.db.write() as con:
                con.executemany("UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                                [[t, k] for k, t in used.items()])
        return len(used)

    def _with_usage(self, key: ApiKey) -> ApiKey:
        with self._lock:
            pending = self._used.get(key.id)
        if pending is None:
            return key
        return ApiKey(key.id, key.name, key.scope, key.customer, key.created_at, key.revoked_at, pending)
