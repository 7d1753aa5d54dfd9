"""`tidings api`: uvicorn serving the app, with a shutdown that reports success.

On SIGINT or SIGTERM it stops accepting connections, lets requests in flight
finish (up to TIDINGS_SHUTDOWN_GRACE_SECONDS), closes every client and exits 0.
Plain uvicorn re-raises the signal after a graceful shutdown, so a supervisor
would see a process killed by SIGTERM where nothing went wrong.
"""

import contextlib
import gc
import os
import signal
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from tidings.app.api import create_app
from tidings.app.logs import configure_logging
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


def uvicorn_config(settings: Settings, *, port: int | None = None, **target: Any) -> uvicorn.Config:
    """How the API is served, here and wherever tests serve it for real.

    `target` replaces the app built here: uvicorn's worker processes build theirs
    from an import string (`app`, `factory`, `workers`).
    """
    options: dict[str, Any] = target or {"app": create_app(settings)}
    return uvicorn.Config(
        **options,
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
    if settings.api_workers > 1:
        return serve_api_processes(settings)
    tune_garbage_collection()
    server = Server(uvicorn_config(settings))
    server.run()
    return 0 if server.started else 1


def tune_garbage_collection() -> None:
    """Fewer, cheaper collections for a process that serves pages.

    A page allocates thousands of short-lived objects, so the default threshold
    (700) collects several times a page, and a full collection walks every cached
    post: such pauses made the p99 of a page 68 ms where its p50 was 18. What
    exists before serving (modules, the schema) is frozen out of every collection.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def serve_api_processes(settings: Settings) -> int:
    """N API processes sharing one listening socket, under uvicorn's supervisor.

    Each is a whole API process (its own stores' clients, post-id lease, caches
    and live hub), built from the environment, so they get these same settings.
    The supervisor restarts a process that dies, and on SIGTERM or SIGINT stops
    them all gracefully.
    """
    os.environ.update(settings.as_environment())
    config = uvicorn_config(
        settings,
        app="tidings.app.server:app_from_environment",
        factory=True,
        workers=settings.api_workers,
    )
    Multiprocess(config, sockets=[listening_socket(config.host, config.port)]).run()
    return 0


def app_from_environment() -> Starlette:
    """Each worker process's app (`tidings api --workers N`): settings from TIDINGS_*."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    tune_garbage_collection()
    return create_app(settings)


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket the processes share, made as asyncio makes its own.

    uvicorn's bind_socket leaves the protocol number 0; connections accepted from
    such a socket inherit it, and asyncio then skips TCP_NODELAY on them (it checks
    for IPPROTO_TCP), so every response written in two parts waited 40 ms for the
    client's delayed ACK: 163 pages/s from two processes against 420 from one.
    """
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    listener.set_inheritable(True)
    return listener
