"""Bounds on WebSocket connections: how many per user, how long past the token,
how long without a subscription.

Frame size and keepalive (ping with a pong deadline) are uvicorn's, set in
`server.py`: a frame over the cap, `connection_init` included, is refused by the
protocol layer before anything parses it, and a peer that stops answering pings,
one that never reads for instance, is disconnected.
"""

import asyncio
import contextlib
import logging
import time

from starlette.websockets import WebSocket

from tidings.app.auth import Bearer
from tidings.resolvers.context import Context

log = logging.getLogger(__name__)

# graphql-transport-ws close codes.
FORBIDDEN = 4403
TIMEOUT = 4408


class SocketPolicy:
    def __init__(
        self, *, max_per_user: int, idle_seconds: float, max_pending_per_address: int = 16
    ) -> None:
        self._max_per_user = max_per_user
        self._idle_seconds = idle_seconds
        self._open: dict[str, int] = {}
        self._watchers: dict[int, list[asyncio.Task[None]]] = {}
        # Sockets not yet signed in (no `connection_init` with a good token), per
        # client address: the token comes only then, so until then the address is
        # all there is to bound them by.
        self._max_pending = max_pending_per_address
        self._pending: dict[str, int] = {}
        self.refused_pending = 0

    def hold_pending(self, address: str) -> bool:
        """Takes a handshake on from this address; False past the bound."""
        held = self._pending.get(address, 0)
        if held >= self._max_pending:
            self.refused_pending += 1
            return False
        self._pending[address] = held + 1
        return True

    def drop_pending(self, address: str) -> None:
        """The socket signed in, or went away before it did."""
        left = self._pending.get(address, 1) - 1
        if left:
            self._pending[address] = left
        else:
            self._pending.pop(address, None)

    def admit(self, websocket: WebSocket, context: Context, bearer: Bearer) -> str | None:
        """Takes the socket on for this user; the reason if it must be refused."""
        user_id = bearer.viewer_id
        if self._open.get(user_id, 0) >= self._max_per_user:
            return f"At most {self._max_per_user} open sockets per user; close one first."
        self._open[user_id] = self._open.get(user_id, 0) + 1
        context.idle_since = asyncio.get_running_loop().time()
        self._watchers[id(websocket)] = [
            asyncio.create_task(self._expire(websocket, bearer.expires_at)),
            asyncio.create_task(self._watch_idle(websocket, context)),
        ]
        return None

    async def release(self, websocket: WebSocket, context: Context) -> None:
        """When the socket is gone, whoever closed it."""
        watchers = self._watchers.pop(id(websocket), None)
        if watchers is None:
            return  # never admitted
        for task in watchers:
            task.cancel()
        for task in watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if context.viewer_id is not None:
            left = self._open.get(context.viewer_id, 1) - 1
            if left:
                self._open[context.viewer_id] = left
            else:
                self._open.pop(context.viewer_id, None)

    async def _expire(self, websocket: WebSocket, expires_at: float) -> None:
        # A socket must not outlive the token that opened it.
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await _close(websocket, FORBIDDEN, "The token has expired; reconnect with a new one.")

    async def _watch_idle(self, websocket: WebSocket, context: Context) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if context.subscriptions:
                await asyncio.sleep(self._idle_seconds)
                continue
            idle_for = loop.time() - context.idle_since
            if idle_for >= self._idle_seconds:
                reason = f"No subscription for {self._idle_seconds:g} seconds."
                await _close(websocket, TIMEOUT, reason)
                return
            await asyncio.sleep(self._idle_seconds - idle_for)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # The peer may be gone already; closing twice is nothing to report.
    with contextlib.suppress(RuntimeError, OSError):
        await websocket.close(code=code, reason=reason)
