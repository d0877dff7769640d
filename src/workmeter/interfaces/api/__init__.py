"""The workmeter HTTP server: ingest, OTLP receiver, reports, keys, operations.

No business rules live here: routes parse requests, check the caller's key
and tenant, call the same service functions as the CLI, and render.
"""

from workmeter.interfaces.api.app import create_app
from workmeter.interfaces.api.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
