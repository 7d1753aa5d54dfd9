"""The stores a process talks to: clients and adapters, opened together, closed together.

Nothing here composes use-cases; each role (`api.py`, `worker.py`, the CLI
commands) opens the stores and builds from them only what it runs.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pymongo import AsyncMongoClient
from pymongo.uri_parser import parse_uri
from redis.asyncio import Redis

from tidings.app.settings import Settings
from tidings.stores.graph import FriendGraph
from tidings.stores.posts import PostStore
from tidings.stores.redis import connect_redis


@dataclass(frozen=True)
class Stores:
    redis: "Redis"
    mongo: AsyncMongoClient[dict[str, Any]]
    posts: PostStore
    graph: FriendGraph


def mongo_database_name(uri: str, default: str) -> str:
    return parse_uri(uri).get("database") or default


def graph_name(url: str, default: str) -> str:
    path = urlsplit(url).path.strip("/")
    return path or default


def connect_graph(url: str, namespace: str) -> FriendGraph:
    """The adapter that `url` names. Call only where the graph's lifetime is owned."""
    scheme = urlsplit(url).scheme
    if scheme in {"falkordb", "falkor", "redis"}:
        from tidings.stores.falkordb_graph import FalkorDBGraph

        return FalkorDBGraph.from_url(url, graph_name(url, namespace))
    if scheme.split("+")[0] in {"neo4j", "bolt"}:
        from tidings.stores.neo4j_graph import Neo4jGraph

        return Neo4jGraph.from_url(url, namespace)
    raise ValueError(
        f"Unsupported graph URL scheme {scheme!r}; use falkordb://host:port/graph, "
        "neo4j://host:port[/database] or bolt://host:port[/database]"
    )


@asynccontextmanager
async def open_stores(settings: Settings) -> AsyncIterator[Stores]:
    """Clients for every store; connections open lazily, on first use."""
    redis = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_uri, tz_aware=True, serverSelectionTimeoutMS=10_000
    )
    graph = connect_graph(settings.graph_url, settings.namespace)
    try:
        database = mongo[mongo_database_name(settings.mongo_uri, settings.namespace)]
        yield Stores(redis=redis, mongo=mongo, posts=PostStore(database), graph=graph)
    finally:
        await graph.close()
        await mongo.close()
        await redis.aclose()


async def prepare_schemas(stores: Stores, settings: Settings) -> None:
    """Indexes and constraints the API and the workers rely on; idempotent."""
    await stores.posts.ensure_indexes(settings.retention_days)
    await stores.graph.ensure_schema()
