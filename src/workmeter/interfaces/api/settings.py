"""Server settings: one registry feeding ``workmeter serve`` options and the app.

Every limit has a default that suits one process on a small machine; each can
be set on the command line or with a ``WORKMETER_*`` environment variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Span/resource attributes that name the customer of an OTLP span, tried in order.
DEFAULT_CUSTOMER_ATTRIBUTES: tuple[str, ...] = ("workmeter.customer",)


@dataclass(frozen=True)
class ServerSettings:
    db: Path = Path("workmeter.duckdb")
    host: str = "127.0.0.1"
    port: int = 8080
    #: False only with ``serve --no-auth`` (local use): every request acts as admin.
    auth: bool = True
    #: Largest accepted request body, after gzip decoding (413 above it).
    max_body_bytes: int = 32 * 1024 * 1024
    #: Most events in one request (400 above it).
    max_events_per_request: int = 10_000
    #: Events waiting for the writer before new requests get 429 + Retry-After.
    max_queued_events: int = 200_000
    #: Most events the writer commits in one transaction (group commit).
    max_batch_events: int = 100_000
    #: DuckDB worker threads (None: DuckDB's default, one per core). On a small machine that
    #: mostly ingests, 1 leaves a core to HTTP and costs the ledger less CPU per event.
    db_threads: int | None = None
    #: Attributes naming the customer of an OTLP span (span first, then resource).
    customer_attributes: tuple[str, ...] = DEFAULT_CUSTOMER_ATTRIBUTES
    #: Seconds an OTLP model call waits for the agent spans above it (exported later, when they
    #: end) before it is billed with what is known; 0: never wait (each request stands alone).
    otlp_hold_seconds: float = 600.0
    #: Seconds between writes of API-key last-used times.
    key_flush_seconds: float = 5.0
    #: Most rows per page when a client asks for pagination (``limit``).
    max_page_size: int = 10_000
    log_level: str = "info"
