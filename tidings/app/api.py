"""The API process: what it builds, in which order, and the ASGI app that serves it.

Startup opens the stores, prepares their schemas, composes the use-cases the
resolvers call, registers their metrics and starts the live hub; shutdown
undoes that in reverse. Nothing is built at import time.
"""

from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any, TypedDict

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from tidings.app import components
from tidings.app.admission import Admission, LoadGate
from tidings.app.auth import TokenVerifier
from tidings.app.body_limit import BodyLimit
from tidings.app.graphiql import GraphiQLPage, graphiql_assets
from tidings.app.graphql_view import TidingsGraphQL
from tidings.app.logs import RequestIds
from tidings.app.metrics import Metrics
from tidings.app.probes import Readiness, health, readiness
from tidings.app.settings import Settings
from tidings.app.sockets import SocketPolicy
from tidings.app.stores import open_stores, prepare_schemas
from tidings.feed.affinity import Affinity
from tidings.feed.backoff import with_retries
from tidings.feed.cursor import CursorCodec
from tidings.feed.expiring_cache import ExpiringCache
from tidings.feed.keys import Keys
from tidings.feed.live import LiveHub
from tidings.feed.live_timeline import LiveTimeline
from tidings.feed.people import People
from tidings.feed.post_cache import PostCache
from tidings.feed.ranked import RankedTimeline
from tidings.feed.ranked_sessions import RankedSessions
from tidings.feed.ranking import BuiltInScore, Ranker, RemoteRanker
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.reading import Reading
from tidings.resolvers.context import Backends
from tidings.resolvers.loaders import ReadSources
from tidings.resolvers.page_builder import BatchStep
from tidings.schema.budget import QueryBudget
from tidings.schema.post_features import POST_STEPS
from tidings.schema.schema import build_schema


class AppState(TypedDict):
    backends: Backends
    readiness: Readiness


@asynccontextmanager
async def api_process(
    settings: Settings,
    cursors: CursorCodec,
    gate: LoadGate,
    answered: Counter[str],
    refusals: Sequence[tuple[str, str, Callable[[], float]]] = (),
) -> AsyncIterator[AppState]:
    """Everything one API process runs, from startup to shutdown."""
    async with AsyncExitStack() as stack:
        stores = await stack.enter_async_context(open_stores(settings))
        # An API starting while a store restarts waits for it, within bounds.
        await with_retries(
            "schema set-up",
            lambda: prepare_schemas(stores, settings),
            give_up_after=settings.startup_seconds,
        )
        keys = Keys(settings.namespace)
        celebrities = components.celebrities(stores, settings, keys)

        ranker: Ranker = BuiltInScore()
        if settings.ranking_url:
            http = await stack.enter_async_context(httpx.AsyncClient())
            ranker = RemoteRanker(http, settings.ranking_url, settings.ranking_timeout_ms / 1000)
        home = components.home_timeline(stores, settings, keys, celebrity_cache=celebrities)
        affinity = Affinity(stores.redis, keys)
        ranked = RankedTimeline(
            home,
            RankedSessions(
                stores.redis,
                keys,
                ttl_seconds=settings.ranked_session_seconds,
                per_user=settings.ranked_sessions_per_user,
            ),
            ranker,
            stores.stats,
            affinity,
            candidates=settings.ranked_candidates,
        )
        media = components.media_library(stores, settings, keys)
        posting = await with_retries(
            "post id lease",
            lambda: components.post_service(stores, settings, keys, media),
            give_up_after=settings.startup_seconds,
        )
        people = People(
            stores.graph,
            ExpiringCache(settings.post_cache_entries, settings.friend_count_cache_seconds),
        )
        ties = components.tie_cache(stores, settings, keys)
        post_cache = PostCache(settings.post_cache_entries, settings.post_cache_seconds)
        hub = LiveHub(
            stores.redis,
            keys,
            stores.posts,
            post_cache,
            capacity=settings.live_buffer,
            presence_seconds=settings.live_presence_seconds,
        )
        notifications = components.notifications(stores, settings, keys, hub)
        friendships = components.friendships(
            stores, settings, keys, celebrities, people, notifications
        )
        # One for likes and comments: a post's heat counts both.
        interactions = components.interactions(stores, settings, keys, affinity)
        likes = components.likes(stores, settings, keys, interactions)
        comments = await with_retries(
            "comment id lease",
            lambda: components.comments(stores, settings, keys, interactions),
            give_up_after=settings.startup_seconds,
        )
        posting.on_deleted += [
            hub.announce_deleted,
            likes.forget_post,
            comments.forget_post,
            notifications.forget_post,
            media.forget_post,
        ]
        live = LiveTimeline(
            home, celebrities, hub, celebrity_refresh_seconds=settings.celebrity_cache_seconds
        )

        metrics = Metrics()
        home.on_read = metrics.latency(
            "tidings_timeline_read_seconds", "Time to assemble and hydrate one timeline page"
        ).observe
        metrics.counters(
            [
                ("tidings_posts_created", "Posts accepted", lambda: posting.created),
                (
                    "tidings_timeline_rebuilds",
                    "Timelines rebuilt from MongoDB",
                    lambda: home.rebuilds,
                ),
                (
                    "tidings_celebrity_merges",
                    "Timeline pages that merged celebrities' posts at read time",
                    lambda: home.celebrity_merges,
                ),
                (
                    "tidings_celebrity_cache_hits",
                    "Celebrity-friend lists served from the cache",
                    lambda: celebrities.cache_hits,
                ),
                (
                    "tidings_celebrity_cache_misses",
                    "Celebrity-friend lists computed from the graph",
                    lambda: celebrities.cache_misses,
                ),
                (
                    "tidings_live_dropped_events",
                    "Live posts dropped because a subscriber's buffer was full",
                    lambda: hub.dropped,
                ),
                (
                    "tidings_ranking_fallbacks",
                    "Ranked sessions ordered by the built-in score because the service failed",
                    lambda: ranker.fallbacks,
                ),
                (
                    "tidings_requests_shed",
                    "GraphQL requests answered 503 because too many were in flight",
                    lambda: gate.shed,
                ),
                (
                    "tidings_anonymous_requests_shed",
                    "Requests without a valid token answered 503 (their own, smaller bound)",
                    lambda: gate.anonymous_shed,
                ),
                *refusals,
                (
                    "tidings_slow_request_bodies",
                    "Requests answered 408: the body did not arrive within its deadline",
                    lambda: gate.slow_bodies,
                ),
                ("tidings_post_cache_hits", "Posts found in the process", lambda: post_cache.hits),
                (
                    "tidings_post_cache_misses",
                    "Posts the process had to ask MongoDB for",
                    lambda: post_cache.misses,
                ),
                ("tidings_tie_cache_builds", "Friend and mute sets built", lambda: ties.builds),
                (
                    "tidings_unavailable_answers",
                    "GraphQL errors answered UNAVAILABLE: a store was down",
                    lambda: answered["UNAVAILABLE"],
                ),
                (
                    "tidings_timeline_pulled_pages",
                    "Pages read from the graph and MongoDB because Redis was down",
                    lambda: home.pulled_pages,
                ),
                (
                    "tidings_timeline_partial_pages",
                    "Pages missing posts (celebrities', uncached) because MongoDB was down",
                    lambda: home.partial_pages,
                ),
            ]
        )
        metrics.breakers(stores.breakers)
        if settings.api_metrics_port:
            stack.callback(
                metrics.serve(settings.host, settings.api_metrics_port, settings.api_workers)
            )

        await hub.start()
        stack.push_async_callback(hub.close)
        yield {
            "backends": Backends(
                timeline=home,
                ranked=ranked,
                reading=Reading(
                    home,
                    stores.markers,
                    RateLimiter(
                        stores.redis,
                        keys,
                        "timeline marks",
                        settings.mark_read_rate,
                        settings.mark_read_rate_window_seconds,
                    ),
                ),
                live=live,
                posting=posting,
                friendships=friendships,
                people=people,
                likes=likes,
                comments=comments,
                notifications=notifications,
                media=media,
                cursors=cursors,
                reads=ReadSources(stores.posts, stores.graph, ties, post_cache, stores.stats),
            ),
            "readiness": {
                "redis": stores.redis.ping,
                "mongodb": stores.posts.ping,
                "graph": lambda: stores.graph.user_summaries(["readiness-probe"]),
            },
        }


def create_app(
    settings: Settings, post_steps: Sequence[BatchStep[Any, Any]] = POST_STEPS
) -> Starlette:
    """Builds the app; every client is opened in its lifespan, none before."""
    cursors = CursorCodec(settings.require_cursor_secret())
    verifier = TokenVerifier(
        settings.hs256_secret(), settings.jwt_leeway_seconds, settings.jwt_public_key
    )

    budget = QueryBudget(settings.query_points_per_second, settings.query_points_burst)
    gate = LoadGate(
        max_in_flight=settings.max_requests_in_flight,
        max_anonymous_in_flight=settings.max_anonymous_requests_in_flight,
    )
    sockets = SocketPolicy(
        max_per_user=settings.ws_max_sockets_per_user,
        idle_seconds=settings.ws_idle_seconds,
        max_pending_per_address=settings.ws_max_pending_per_address,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[AppState]:
        refusals: list[tuple[str, str, Callable[[], float]]] = [
            (
                "tidings_anonymous_requests_refused",
                "Requests without a valid token refused before parsing (too large a document)",
                lambda: graphql.anonymous_refused,
            ),
            (
                "tidings_sockets_refused_unsigned",
                "WebSocket handshakes refused: too many not yet signed in from one address",
                lambda: sockets.refused_pending,
            ),
            (
                "tidings_query_budget_refusals",
                "Requests refused RATE_LIMITED: the user's query points ran out",
                lambda: budget.refused,
            ),
        ]
        async with api_process(settings, cursors, gate, schema.codes, refusals) as state:
            yield state

    schema = build_schema(
        max_depth=settings.query_max_depth,
        max_aliases=settings.query_max_aliases,
        max_tokens=settings.query_max_tokens,
        max_cost=settings.query_max_cost,
        introspection=settings.introspection,
        post_steps=post_steps,
        budget=budget,
    )
    graphql = TidingsGraphQL(
        verifier,
        sockets,
        schema,
        graphiql=GraphiQLPage("/graphql") if settings.graphiql else None,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
    )
    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", health),
        Route("/readyz", readiness),
    ]
    if settings.graphiql:
        routes.append(graphiql_assets())
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(RequestIds),
            # The whole body first, within its deadline; only then a slot of the gate.
            Middleware(
                BodyLimit,
                max_bytes=settings.max_body_bytes,
                deadline_seconds=settings.body_deadline_seconds,
                gate=gate,
            ),
            Middleware(Admission, path="/graphql", gate=gate, verifier=verifier),
        ],
    )
