"""`tidings api`: uvicorn serving the app, with a shutdown that reports success.

On SIGINT or SIGTERM it stops accepting connections, lets requests in flight
finish (up to TIDINGS_SHUTDOWN_GRACE_SECONDS), closes every client and exits 0.
Plain uvicorn re-raises the signal after a graceful shutdown, so a supervisor
would see a process killed by SIGTERM where nothing went wrong.
"""

import contextlib
import signal
from collections.abc import Iterator

import uvicorn

from tidings.app.api import create_app
from tidings.app.settings import Settings


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {signum: signal.signal(signum, self.handle_exit) for signum in handled}
        try:
            yield
        finally:
            for signum, handler in original.items():
                signal.signal(signum, handler)


def uvicorn_config(settings: Settings, *, port: int | None = None) -> uvicorn.Config:
    """How the API is served, here and wherever tests serve it for real."""
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port if port is None else port,
        ws="websockets-sansio",
        # The protocol layer refuses larger frames before anything parses them.
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=settings.ws_ping_interval_seconds,
        ws_ping_timeout=settings.ws_ping_timeout_seconds,
        lifespan="on",
        access_log=False,
        # uvicorn's own lines go through the process's logging set-up: JSON too.
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        log_level=settings.log_level.lower(),
    )


def serve_api(settings: Settings) -> int:
    server = Server(uvicorn_config(settings))
    server.run()
    return 0 if server.started else 1
