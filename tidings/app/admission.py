"""Load shedding, as plain ASGI middleware: a bound on GraphQL requests in flight.

Past the bound a request is answered at once, 503 with `Retry-After` and an
`UNAVAILABLE` error, instead of queueing behind the rest: the process keeps
answering what it has taken on, and `/healthz` and `/readyz` (never counted)
stay fast. Requests without a token have a smaller budget of their own, so
anonymous traffic cannot use up what signed-in users need.
"""

import json

from starlette.types import ASGIApp, Receive, Scope, Send

_BUSY = json.dumps(
    {
        "errors": [
            {
                "message": "The server is busy; retry shortly.",
                "extensions": {"code": "UNAVAILABLE", "retryAfter": 1},
            }
        ]
    }
).encode()


class LoadGate:
    """The process's count of requests in flight, shared with its metrics."""

    def __init__(self, *, max_in_flight: int, max_anonymous_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.max_anonymous_in_flight = max_anonymous_in_flight
        self.in_flight = 0
        self.anonymous_in_flight = 0
        self.shed = 0

    def admits(self, anonymous: bool) -> bool:
        if self.in_flight >= self.max_in_flight:
            return False
        return not anonymous or self.anonymous_in_flight < self.max_anonymous_in_flight


class Admission:
    def __init__(self, app: ASGIApp, *, path: str, gate: LoadGate) -> None:
        self._app = app
        self._path = path
        self._gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self._path:
            await self._app(scope, receive, send)
            return
        gate = self._gate
        anonymous = not any(name == b"authorization" for name, _ in scope["headers"])
        if not gate.admits(anonymous):
            gate.shed += 1
            await _busy(send)
            return
        gate.in_flight += 1
        gate.anonymous_in_flight += anonymous
        try:
            await self._app(scope, receive, send)
        finally:
            gate.in_flight -= 1
            gate.anonymous_in_flight -= anonymous


async def _busy(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", b"1"),
                (b"content-length", str(len(_BUSY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _BUSY})
