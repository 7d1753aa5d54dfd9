"""The ASGI application: Starlette routes, lifespan wiring, and the GraphQL view."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypedDict

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from tidings.app.auth import TokenVerifier
from tidings.app.body_limit import BodyLimit
from tidings.app.logs import RequestIds
from tidings.app.metrics import CONTENT_TYPE, Metrics
from tidings.app.services import Services, open_services
from tidings.app.settings import Settings
from tidings.feed.cursor import CursorCodec
from tidings.feed.errors import Unauthenticated
from tidings.feed.live import LiveHub
from tidings.resolvers.context import Backends, Context
from tidings.schema.schema import build_schema


class AppState(TypedDict):
    backends: Backends
    metrics: Metrics


def backends_of(
    services: Services, live: LiveHub, cursors: CursorCodec, metrics: Metrics
) -> Backends:
    read_seconds = metrics.latency(
        "tidings_timeline_read_seconds", "Time to assemble and hydrate one timeline page"
    )
    metrics.counters(
        [
            ("tidings_posts_created", "Posts accepted", lambda: services.post_service.created),
            (
                "tidings_timeline_rebuilds",
                "Timelines rebuilt from MongoDB",
                lambda: services.home.rebuilds,
            ),
            (
                "tidings_celebrity_merges",
                "Timeline pages that merged celebrities' posts at read time",
                lambda: services.home.celebrity_merges,
            ),
            (
                "tidings_celebrity_cache_hits",
                "Celebrity-friend lists served from the cache",
                lambda: services.celebrities.cache_hits,
            ),
            (
                "tidings_celebrity_cache_misses",
                "Celebrity-friend lists computed from the graph",
                lambda: services.celebrities.cache_misses,
            ),
            (
                "tidings_live_dropped_events",
                "Live posts dropped because a subscriber's buffer was full",
                lambda: live.dropped,
            ),
            (
                "tidings_ranking_fallbacks",
                "Pages served chronologically because ranking failed",
                lambda: getattr(services.ranker, "fallbacks", 0),
            ),
        ]
    )
    return Backends(
        posts=services.posts,
        graph=services.graph,
        home=services.home,
        celebrities=services.celebrities,
        friendships=services.friendships,
        post_service=services.post_service,
        ranker=services.ranker,
        cursors=cursors,
        live=live,
        celebrity_refresh_seconds=services.settings.celebrity_cache_seconds,
        observe_read=read_seconds.observe,
    )


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


async def health(_request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def metrics_page(request: Request) -> Response:
    metrics: Metrics = request.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE)


async def readiness(request: Request) -> Response:
    """Readiness: every store answers within a short timeout."""
    backends: Backends = request.state.backends
    checks = {
        "redis": backends.live.ping(),
        "mongodb": backends.posts.ping(),
        "graph": backends.graph.user_summaries(["readiness-probe"]),
    }
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            async with asyncio.timeout(2):
                await check
            results[name] = "ok"
        except Exception as error:  # any failure means not ready, whatever its kind
            results[name] = type(error).__name__
    ready = all(result == "ok" for result in results.values())
    return JSONResponse({"ready": ready, "stores": results}, status_code=200 if ready else 503)


def create_app(settings: Settings) -> Starlette:
    """Builds the app; every client is opened in its lifespan, none before."""
    cursors = CursorCodec(settings.require_cursor_secret())
    verifier = TokenVerifier(
        settings.hs256_secret(), settings.jwt_leeway_seconds, settings.jwt_public_key
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[AppState]:
        async with open_services(settings) as services:
            live = LiveHub(
                services.redis,
                settings.namespace,
                services.posts,
                capacity=settings.live_buffer,
                presence_seconds=settings.live_presence_seconds,
            )
            await live.start()
            try:
                metrics = Metrics()
                yield {
                    "backends": backends_of(services, live, cursors, metrics),
                    "metrics": metrics,
                }
            finally:
                await live.close()

    schema = build_schema(
        max_depth=settings.query_max_depth,
        max_aliases=settings.query_max_aliases,
        max_tokens=settings.query_max_tokens,
        introspection=settings.introspection,
    )
    graphql = TidingsGraphQL(
        verifier,
        schema,
        graphql_ide="graphiql",
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
    )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", health),
            Route("/readyz", readiness),
            Route("/metrics", metrics_page),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(RequestIds),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
    )


def app_from_environment() -> Starlette:
    """The entry point uvicorn is given (`--factory`): settings from TIDINGS_* variables."""
    return create_app(Settings())
