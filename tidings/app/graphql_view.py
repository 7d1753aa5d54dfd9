"""The GraphQL view: Strawberry's ASGI view with our auth and request-body rules."""

import json
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from tidings.app.auth import TokenVerifier
from tidings.app.graphiql import GraphiQLPage
from tidings.app.media_types import GRAPHQL_RESPONSE, response_media_type
from tidings.app.sockets import SocketPolicy
from tidings.feed.errors import Unauthenticated
from tidings.resolvers.context import Context

# Where a socket's context waits for the socket policy's release.
_CONTEXT = "tidings.context"
# Where a socket that has not signed in yet keeps its client's address.
_PENDING = "tidings.pending_address"
# Where a request's sub-response waits for its result's status.
_SUB_RESPONSE = "tidings.sub_response"

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


# What a request without a valid token may send: a document this small costs
# microseconds to parse and validate, so anonymous floods cost almost nothing;
# anything larger is refused before it is parsed. (Every field needs a viewer:
# an anonymous request can only learn that it must sign in.)
ANONYMOUS_MAX_QUERY_CHARS = 256


class TidingsGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        verifier: TokenVerifier,
        sockets: SocketPolicy,
        schema: BaseSchema,
        *,
        graphiql: GraphiQLPage | None = None,
        anonymous_max_query_chars: int = ANONYMOUS_MAX_QUERY_CHARS,
        **kwargs: Any,
    ) -> None:
        # Strawberry serves its IDE for browsers when `graphql_ide` is set; ours
        # replaces its page, which loads GraphiQL from a CDN.
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None, **kwargs)
        self.verifier = verifier
        self.sockets = sockets
        self.graphiql = graphiql
        self.anonymous_max_query_chars = anonymous_max_query_chars
        # Anonymous requests refused unparsed, for the process's metrics.
        self.anonymous_refused = 0

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        query = request_data.query
        persisted = "persistedQuery" in (request_data.extensions or {})
        if context.viewer_id is None and (
            len(query or "") > self.anonymous_max_query_chars or (query is None and persisted)
        ):
            # No token, or a bad one: refused before parsing, validating, or looking
            # up a persisted query (which would tell whether someone sent it).
            self.anonymous_refused += 1
            refusal = context.auth_error or Unauthenticated("Sign in first.")
            error = GraphQLError(refusal.message, original_error=refusal)
            self.schema.process_errors([error])
            return ExecutionResult(data=None, errors=[error])
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        assert self.graphiql is not None  # Strawberry asks only when one is set
        return self.graphiql.response()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            address = (scope.get("client") or ("unknown",))[0]
            if not self.sockets.hold_pending(address):
                # Too many sockets from here that have not signed in: refused at the
                # handshake (HTTP 403), before anything is allocated for it.
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1013})
                return
            scope[_PENDING] = address
        try:
            await super().__call__(scope, receive, send)
        finally:
            if (address := scope.pop(_PENDING, None)) is not None:
                self.sockets.drop_pending(address)
            context: Context | None = scope.get(_CONTEXT)
            if context is not None:
                await self.sockets.release(context.socket, context)

    def encode_json(self, data: object) -> str:
        # Text, not bytes: graphql-transport-ws messages travel in text frames.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON the view reads, request bodies and WebSocket messages alike.

        Their size is capped before (the body limit, the WebSocket frame limit);
        here their nesting is, so a body nested 20,000 deep costs a quick refusal,
        not a RecursionError. Refused as invalid JSON: HTTP 400 on a request, close
        code 4400 on a socket.
        """
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            # orjson is strict where JSON is lenient (a lone surrogate escape): the
            # standard parser decides, so such a body gets the same answer as ever.
            text = data.decode() if isinstance(data, bytes) else data
            try:
                parsed = json.loads(text)
            except RecursionError:
                raise json.JSONDecodeError("nested too deeply", text, 0) from None
        if _depth_over(parsed, MAX_JSON_DEPTH):
            raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH}", str(data), 0)
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

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        request.scope[_SUB_RESPONSE] = sub_response
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """A request error (unparsable, invalid, bad variables) has no `data`.

        Under the spec's media type it is a 400 without `data`; under plain JSON it
        stays a 200 with `data: null`, as clients of that type expect. A field error
        always has a path, so an error-free path list means nothing executed.
        """
        response = process_result(result)
        sub_response: Response = request.scope[_SUB_RESPONSE]
        refused = result.data is None and all(error.path is None for error in result.errors or ())
        if sub_response.media_type == GRAPHQL_RESPONSE and result.errors and refused:
            response.pop("data", None)
            sub_response.status_code = 400
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = Response(
            orjson.dumps(response_data),
            status_code=sub_response.status_code or 200,
            media_type=sub_response.media_type,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        response.background = sub_response.background
        return response

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
        # Signed in: no longer counted against its address's pending sockets.
        if (address := context.socket.scope.pop(_PENDING, None)) is not None:
            self.sockets.drop_pending(address)
        return None
