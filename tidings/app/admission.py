"""Load shedding, as plain ASGI middleware: a bound on GraphQL requests in flight.

Past the bound a request is answered at once, 503 with `Retry-After` and an
`UNAVAILABLE` error, instead of queueing behind the rest: the process keeps
answering what it has taken on, and `/healthz` and `/readyz` (never counted)
stay fast. Requests without a valid token (checked here: a header alone proves
nothing) have a smaller budget of their own, so anonymous traffic cannot use up
what signed-in users need. A request is counted only once its whole body has
arrived (see body_limit.py, in front of this).

Shedding shows in the metrics and in one log line per interval while it lasts,
never in readiness: a balancer that drained every shedding instance at once
would turn an attack into an outage.
"""

import json
import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from tidings.app.auth import TokenVerifier
from tidings.feed.errors import Unauthenticated

log = logging.getLogger(__name__)

# At most one log line about shedding per this many seconds.
_LOG_EVERY = 10.0

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
        self.anonymous_shed = 0
        # Requests whose body did not arrive within its deadline (body_limit.py).
        self.slow_bodies = 0
        self._logged_at = 0.0
        self._shed_when_logged = 0

    def admits(self, anonymous: bool) -> bool:
        if self.in_flight >= self.max_in_flight:
            return False
        return not anonymous or self.anonymous_in_flight < self.max_anonymous_in_flight

    def refused(self, anonymous: bool) -> None:
        self.shed += 1
        self.anonymous_shed += anonymous
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY:
            log.warning(
                "shedding load: %d requests refused since the last report "
                "(%d anonymous in total); in flight %d of %d, anonymous %d of %d",
                self.shed - self._shed_when_logged,
                self.anonymous_shed,
                self.in_flight,
                self.max_in_flight,
                self.anonymous_in_flight,
                self.max_anonymous_in_flight,
            )
            self._logged_at, self._shed_when_logged = now, self.shed


class Admission:
    def __init__(self, app: ASGIApp, *, path: str, gate: LoadGate, verifier: TokenVerifier) -> None:
        self._app = app
        self._path = path
        self._gate = gate
        self._verifier = verifier

    def _anonymous(self, scope: Scope) -> bool:
        """Whether the request lacks a valid token (verified tokens are remembered,
        so this is a dictionary lookup for a signed-in client)."""
        for name, value in scope["headers"]:
            if name == b"authorization":
                try:
                    self._verifier.verify(value.decode("latin-1"))
                except Unauthenticated:
                    return True
                return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self._path:
            await self._app(scope, receive, send)
            return
        gate = self._gate
        anonymous = self._anonymous(scope)
        if not gate.admits(anonymous):
            gate.refused(anonymous)
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
