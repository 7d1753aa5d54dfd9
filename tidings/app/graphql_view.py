"""The GraphQL view: Strawberry's ASGI view with our auth and request-body rules."""

import json
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from tidings.app.auth import TokenVerifier
from tidings.app.sockets import SocketPolicy
from tidings.feed.errors import Unauthenticated
from tidings.resolvers.context import Context

# Where a socket's context waits for the socket policy's release.
_CONTEXT = "tidings.context"

# Far above any GraphQL request (a body, its variables, an input object).
MAX_JSON_DEPTH = 32


def _depth_over(value: object, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit`; iterative, stops early."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        if children and depth >= limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class TidingsGraphQL(GraphQL[Context, None]):
    def __init__(
        self, verifier: TokenVerifier, sockets: SocketPolicy, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.verifier = verifier
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            context: Context | None = scope.get(_CONTEXT)
            if context is not None:
                await self.sockets.release(context.socket, context)

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON the view reads, request bodies and WebSocket messages alike.

        Their size is capped before (the body limit, the WebSocket frame limit);
        here their nesting is, so a body nested 20,000 deep costs a quick refusal,
        not a RecursionError. Refused as invalid JSON: HTTP 400 on a request, close
        code 4400 on a socket.
        """
        text = data.decode() if isinstance(data, bytes) else data
        try:
            parsed = json.loads(text)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", text, 0) from None
        if _depth_over(parsed, MAX_JSON_DEPTH):
            raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH}", text, 0)
        return parsed

    def parse_json(self, data: str | bytes) -> Any:
        # Strawberry answers 500 for a body that is valid JSON but not an object
        # (`0`, `"x"`, `null`) or that is not UTF-8; those are the client's errors.
        try:
            parsed = self.decode_json(data)
        except json.JSONDecodeError as error:
            raise HTTPException(400, f"Unable to parse request body as JSON: {error.msg}") from None
        except ValueError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "The request body must be a JSON object.")
        return parsed

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state: Any = request.state
        if isinstance(request, WebSocket):
            # Over WebSocket the token arrives in `connection_init`; see on_ws_connect.
            rejected = Unauthenticated("Send the token in the connection_init payload.")
            context = Context.for_request(state.backends, None, rejected, long_lived=True)
            context.socket = request
            # Found again when the socket is gone, to release what the policy holds.
            request.scope[_CONTEXT] = context
            return context
        viewer_id, auth_error = None, None
        try:
            viewer_id = self.verifier.viewer_id(request.headers.get("authorization"))
        except Unauthenticated as error:
            auth_error = error
        return Context.for_request(state.backends, viewer_id, auth_error)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Refuses the socket (4403) before any operation unless the token is good."""
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        try:
            bearer = self.verifier.verify(authorization if isinstance(authorization, str) else None)
        except Unauthenticated as error:
            raise ConnectionRejectionError({"message": error.message}) from None
        refusal = self.sockets.admit(context.socket, context, bearer)
        if refusal is not None:
            raise ConnectionRejectionError({"message": refusal})
        context.viewer_id = bearer.viewer_id
        context.auth_error = None
        return None
