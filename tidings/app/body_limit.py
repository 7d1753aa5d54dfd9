"""Request bodies, as plain ASGI middleware (no BaseHTTPMiddleware): a cap on their
size, and a deadline for the whole body to arrive.

The body is read in full here, within the deadline, before anything behind this
middleware (the admission gate, the view) sees the request: a client that sends
headers and then one byte a minute holds a socket for the deadline at most, and
never a slot of the gate that signed-in users need.
"""

import asyncio
import logging

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidings.app.admission import LoadGate

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int, *, deadline_seconds: float, gate: LoadGate
    ) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._deadline = deadline_seconds
        # Counts the bodies that missed the deadline, for the process's metrics.
        self._gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        too_large = PlainTextResponse("Request body too large", status_code=413)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self._max_bytes:
                await too_large(scope, receive, send)
                return
        try:
            async with asyncio.timeout(self._deadline):
                messages = await self._read_body(receive)
        except BodyTooLarge:
            await too_large(scope, receive, send)
            return
        except TimeoutError:
            self._gate.slow_bodies += 1
            # The connection closes after this answer: the rest of the body never came.
            slow = PlainTextResponse("The request body took too long to arrive.", 408)
            slow.headers["connection"] = "close"
            await slow(scope, receive, send)
            return

        if messages[-1]["type"] == "http.disconnect":
            # Gone before its request arrived: nothing to answer, nothing to report
            # but one line (it is the client's doing, not an error of ours).
            log.info("client disconnected before sending its whole request: %s", scope["path"])
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()  # only a disconnect can come now

        await self._app(scope, replay, send)

    async def _read_body(self, receive: Receive) -> list[Message]:
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client went away: the app sees it as it would
            received += len(message.get("body", b""))
            if received > self._max_bytes:
                raise BodyTooLarge
            if not message.get("more_body", False):
                return messages
