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


def serve_api(settings: Settings) -> int:
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        log_level=settings.log_level.lower(),
    )
    server = Server(config)
    server.run()
    return 0 if server.started else 1
