"""The stores a process talks to: clients and adapters, opened together, closed together.

Nothing here composes use-cases; each role (`api.py`, `worker.py`, the CLI
commands) opens the stores and builds from them only what it runs.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pymongo import AsyncMongoClient
from pymongo.uri_parser import parse_uri
from redis.asyncio import Redis

from tidings.app.settings import Settings
from tidings.feed.ids import post_id_time
from tidings.stores.breaker import Breaker
from tidings.stores.comments import CommentStore
from tidings.stores.counters import PostStatsStore
from tidings.stores.graph import FriendGraph
from tidings.stores.likes import LikeStore
from tidings.stores.markers import MarkerStore
from tidings.stores.media import MediaStore
from tidings.stores.notifications import NotificationStore
from tidings.stores.objects import ObjectStore
from tidings.stores.posts import PostStore
from tidings.stores.redis import connect_redis


@dataclass(frozen=True)
class Stores:
    redis: "Redis"
    mongo: AsyncMongoClient[dict[str, Any]]
    posts: PostStore
    likes: LikeStore
    comments: CommentStore
    # Counts and first comments of posts, shared by likes and comments.
    stats: PostStatsStore
    notifications: NotificationStore
    markers: MarkerStore
    media: MediaStore
    graph: FriendGraph
    # The media bucket; None where no bucket is configured (media is off).
    objects: ObjectStore | None = None
    # One per store, for metrics: their states and how often they failed fast.
    breakers: tuple[Breaker, ...] = ()


def mongo_database_name(uri: str, default: str) -> str:
    return parse_uri(uri).get("database") or default


def graph_name(url: str, default: str) -> str:
    path = urlsplit(url).path.strip("/")
    return path or default


def connect_graph(
    url: str, namespace: str, breaker: Breaker | None = None, bulk_deadline: float = 120.0
) -> FriendGraph:
    """The adapter that `url` names. Call only where the graph's lifetime is owned."""
    scheme = urlsplit(url).scheme
    if scheme in {"falkordb", "falkor", "redis"}:
        from tidings.stores.falkordb_graph import FalkorDBGraph

        return FalkorDBGraph.from_url(url, graph_name(url, namespace), breaker, bulk_deadline)
    if scheme.split("+")[0] in {"neo4j", "bolt"}:
        from tidings.stores.neo4j_graph import Neo4jGraph

        return Neo4jGraph.from_url(url, namespace, breaker, bulk_deadline)
    raise ValueError(
        f"Unsupported graph URL scheme {scheme!r}; use falkordb://host:port/graph, "
        "neo4j://host:port[/database] or bolt://host:port[/database]"
    )


@asynccontextmanager
async def open_stores(settings: Settings) -> AsyncIterator[Stores]:
    """Clients for every store; connections open lazily, on first use.

    Every call to a store has a deadline (TIDINGS_STORE_TIMEOUT_SECONDS) and goes
    through that store's circuit breaker, so a store that hangs or is down costs a
    request one deadline at most, then microseconds, and a coded UNAVAILABLE.
    """
    timeout = settings.store_timeout_seconds
    bulk = max(timeout, settings.bulk_timeout_seconds)

    def breaker(store: str) -> Breaker:
        return Breaker(
            store,
            deadline=timeout,
            threshold=settings.breaker_failures,
            cool_down=settings.breaker_cool_down_seconds,
        )

    breakers = (breaker("redis"), breaker("mongodb"), breaker("graph"), breaker("objects"))
    redis = connect_redis(
        settings.redis_url,
        cluster=settings.redis_cluster,
        breaker=breakers[0],
        timeout=timeout,
    )
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_uri,
        tz_aware=True,
        serverSelectionTimeoutMS=int(timeout * 1000),
        connectTimeoutMS=int(timeout * 1000),
    )
    graph = connect_graph(settings.graph_url, settings.namespace, breakers[2], bulk)
    stack = AsyncExitStack()
    try:
        objects = None
        if settings.s3_bucket:
            secret = settings.s3_secret_access_key
            objects = await ObjectStore.open(
                stack,
                bucket=settings.s3_bucket,
                prefix=settings.namespace,
                endpoint_url=settings.s3_endpoint_url,
                public_endpoint_url=settings.s3_public_endpoint_url,
                region=settings.s3_region,
                access_key_id=settings.s3_access_key_id,
                secret_access_key=secret.get_secret_value() if secret else None,
                breaker=breakers[3],
            )
        database = mongo[mongo_database_name(settings.mongo_uri, settings.namespace)]
        posts = PostStore(database, breakers[1], bulk_deadline=bulk)
        stats = PostStatsStore(database, breakers[1], post_id_time)
        yield Stores(
            redis=redis,
            mongo=mongo,
            posts=posts,
            likes=LikeStore(database, breakers[1], stats),
            comments=CommentStore(database, breakers[1], stats),
            stats=stats,
            notifications=NotificationStore(
                database,
                breakers[1],
                keep=settings.notifications_kept,
                keep_days=settings.notification_days,
            ),
            markers=MarkerStore(database, breakers[1]),
            media=MediaStore(database, breakers[1]),
            graph=graph,
            objects=objects,
            breakers=breakers if objects else breakers[:3],
        )
    finally:
        await stack.aclose()
        await graph.close()
        await mongo.close()
        await redis.aclose()


async def prepare_schemas(stores: Stores, settings: Settings) -> None:
    """Indexes and constraints the API and the workers rely on; idempotent."""
    await stores.posts.ensure_indexes(settings.retention_days)
    await stores.stats.ensure_indexes(settings.retention_days)
    await stores.likes.ensure_indexes(settings.retention_days)
    await stores.comments.ensure_indexes(settings.retention_days)
    await stores.notifications.ensure_indexes()
    await stores.media.ensure_indexes()
    if stores.objects is not None and settings.s3_create_bucket:
        await stores.objects.ensure_bucket()
    await stores.graph.ensure_schema()
