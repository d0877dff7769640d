"""workmeter: usage-based billing and value metering for AI work.

Exact token pricing by the date of use, idempotent event ingest, invoices,
credits, and cost per completed task — embedded on DuckDB by default.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Workmeter", "__version__"]


def __getattr__(name: str) -> object:
    if name == "Workmeter":
        from workmeter.app import Workmeter

        return Workmeter
    raise AttributeError(name)
