"""Run the server with uvicorn: one process, one writer, JSON logs, graceful stop.

On SIGTERM / SIGINT uvicorn stops accepting connections, lets in-flight
requests finish (their events commit), then the app drains the write queue
and closes the database.
"""

from __future__ import annotations

import logging
import sys

import uvicorn

from workmeter.interfaces.api import logs
from workmeter.interfaces.api.app import create_app
from workmeter.interfaces.api.settings import ServerSettings

log = logging.getLogger("workmeter.server")

NO_AUTH_WARNING = (
    "WARNING: authentication is OFF (--no-auth). Anyone who can reach "
    "{host}:{port} can read every customer's data and write events. Use this for local work only."
)


def run(settings: ServerSettings) -> None:
    logs.configure(settings.log_level)
    if not settings.auth:
        banner = NO_AUTH_WARNING.format(host=settings.host, port=settings.port)
        sys.stderr.write("\n" + "!" * 78 + "\n" + banner + "\n" + "!" * 78 + "\n\n")
        log.warning("authentication disabled", extra={"host": settings.host, "port": settings.port})
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                            access_log=False, timeout_graceful_shutdown=30, server_header=False)
    uvicorn.Server(config).run()
