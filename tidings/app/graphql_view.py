"""The GraphQL view: Strawberry's ASGI view with our auth and request-body rules."""

import json
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from tidings.app.auth import TokenVerifier
from tidings.feed.errors import Unauthenticated
from tidings.resolvers.context import Context


class TidingsGraphQL(GraphQL[Context, None]):
    def __init__(self, verifier: TokenVerifier, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verifier = verifier

    def parse_json(self, data: str | bytes) -> Any:
        # Strawberry answers 500 for a body that is valid JSON but not an object
        # (`0`, `"x"`, `null`) or that is not UTF-8; those are the client's errors.
        try:
            parsed = json.loads(data)
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
            return Context.for_request(state.backends, None, rejected, long_lived=True)
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
            context.viewer_id = self.verifier.viewer_id(
                authorization if isinstance(authorization, str) else None
            )
        except Unauthenticated as error:
            raise ConnectionRejectionError({"message": error.message}) from None
        context.auth_error = None
        return None
