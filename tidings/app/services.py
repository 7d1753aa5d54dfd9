"""Every client a process needs, opened together and closed together."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.uri_parser import parse_uri
from redis.asyncio import Redis

from tidings.app.settings import Settings
from tidings.feed.cursor import CursorCodec
from tidings.feed.ids import NODES, PostIdGenerator
from tidings.feed.posts import PostService
from tidings.feed.queue import FanoutQueue
from tidings.feed.timeline import TimelineStore
from tidings.stores.graph import FriendGraph, connect_graph
from tidings.stores.posts import PostStore
from tidings.stores.redis import connect_redis


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: "Redis"
    mongo: AsyncMongoClient[dict[str, Any]]
    posts: PostStore
    graph: FriendGraph
    timelines: TimelineStore
    queue: FanoutQueue
    post_service: PostService
    cursors: CursorCodec


def mongo_database_name(uri: str, default: str) -> str:
    return parse_uri(uri).get("database") or default


async def lease_id_node(redis: "Redis", namespace: str) -> int:
    """A node number for post ids that no other live process holds (for up to NODES)."""
    return int(await redis.incr(f"{namespace}:id-node")) % NODES


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    redis = connect_redis(settings.redis_url)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_uri, tz_aware=True, serverSelectionTimeoutMS=10_000
    )
    graph = connect_graph(settings.graph_url, settings.namespace)
    try:
        database = mongo[mongo_database_name(settings.mongo_uri, settings.namespace)]
        posts = PostStore(database)
        await posts.ensure_indexes(settings.retention_days)
        await graph.ensure_schema()
        queue = FanoutQueue(redis, settings.namespace)
        await queue.ensure_group()
        ids = PostIdGenerator(await lease_id_node(redis, settings.namespace))
        yield Services(
            settings=settings,
            redis=redis,
            mongo=mongo,
            posts=posts,
            graph=graph,
            timelines=TimelineStore(redis, settings.namespace, settings.timeline_max),
            queue=queue,
            post_service=PostService(posts, queue, ids),
            cursors=CursorCodec(settings.require_jwt_secret()),
        )
    finally:
        await graph.close()
        await mongo.close()
        await redis.aclose()
