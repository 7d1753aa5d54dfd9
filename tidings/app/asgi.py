"""The ASGI application: Starlette routes, lifespan wiring, and the GraphQL view."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from tidings.app.auth import TokenVerifier
from tidings.app.services import Services, open_services
from tidings.app.settings import Settings
from tidings.feed.errors import Unauthenticated
from tidings.resolvers.context import Backends, Context
from tidings.schema.schema import build_schema


class AppState(TypedDict):
    backends: Backends
    verifier: TokenVerifier


def backends_of(services: Services) -> Backends:
    return Backends(
        posts=services.posts,
        graph=services.graph,
        home=services.home,
        friendships=services.friendships,
        post_service=services.post_service,
        ranker=services.ranker,
        cursors=services.cursors,
    )


class TidingsGraphQL(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state: Any = request.state
        viewer_id, auth_error = None, None
        try:
            viewer_id = state.verifier.viewer_id(request.headers.get("authorization"))
        except Unauthenticated as error:
            auth_error = error
        return Context.for_request(state.backends, viewer_id, auth_error)


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings) -> Starlette:
    """Builds the app; every client is opened in its lifespan, none before."""
    verifier = TokenVerifier(settings.require_jwt_secret(), settings.jwt_leeway_seconds)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[AppState]:
        async with open_services(settings) as services:
            yield {"backends": backends_of(services), "verifier": verifier}

    graphql = TidingsGraphQL(build_schema(), graphql_ide="graphiql")
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """The entry point uvicorn is given (`--factory`): settings from TIDINGS_* variables."""
    return create_app(Settings())
