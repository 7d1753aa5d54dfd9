"""Every client a process needs, opened together and closed together."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from pymongo.uri_parser import parse_uri
from redis.asyncio import Redis

from tidings.app.settings import Settings
from tidings.feed.celebrities import Celebrities
from tidings.feed.fanout import Fanout
from tidings.feed.friends import Friendships
from tidings.feed.home import HomeTimeline
from tidings.feed.ids import NODES, PostIdGenerator
from tidings.feed.live import Announcer
from tidings.feed.outbox import OutboxSweeper
from tidings.feed.posts import PostService
from tidings.feed.queue import FanoutQueue
from tidings.feed.ranking import Chronological, Ranker, RemoteRanker
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.timeline import TimelineStore
from tidings.stores.graph import FriendGraph, connect_graph
from tidings.stores.posts import PostStore
from tidings.stores.redis import connect_redis

# A day past the activity window, so a returning user's last-read time is still there.
_KEEP_SLACK_SECONDS = 86_400


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: "Redis"
    mongo: AsyncMongoClient[dict[str, Any]]
    posts: PostStore
    graph: FriendGraph
    timelines: TimelineStore
    queue: FanoutQueue
    celebrities: Celebrities
    home: HomeTimeline
    friendships: Friendships
    post_service: PostService
    fanout: Fanout
    outbox: OutboxSweeper
    ranker: Ranker


def mongo_database_name(uri: str, default: str) -> str:
    return parse_uri(uri).get("database") or default


async def lease_id_node(redis: "Redis", namespace: str) -> int:
    """A node number for post ids that no other live process holds (for up to NODES)."""
    return int(await redis.incr(f"{namespace}:id-node")) % NODES


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    redis = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_uri, tz_aware=True, serverSelectionTimeoutMS=10_000
    )
    graph = connect_graph(settings.graph_url, settings.namespace)
    http = httpx.AsyncClient()
    try:
        namespace = settings.namespace
        database = mongo[mongo_database_name(settings.mongo_uri, namespace)]
        posts = PostStore(database)
        await posts.ensure_indexes(settings.retention_days)
        await graph.ensure_schema()
        queue = FanoutQueue(redis, namespace, settings.fanout_max_attempts)
        await queue.ensure_group()
        ids = PostIdGenerator(await lease_id_node(redis, namespace))
        keep_seconds = settings.active_days * 86_400 + _KEEP_SLACK_SECONDS
        timelines = TimelineStore(
            redis,
            namespace,
            settings.timeline_max,
            keep_seconds,
            # On a cluster a script call touches one slot: one reader per call, and
            # redis-py does not pipeline scripts there.
            readers_per_call=1 if settings.redis_cluster else 250,
            pipeline_scripts=not settings.redis_cluster,
        )
        celebrities = Celebrities(
            redis,
            namespace,
            graph,
            settings.celebrity_threshold,
            settings.celebrity_cache_seconds,
        )
        ranker: Ranker = Chronological()
        if settings.ranking_url:
            ranker = RemoteRanker(http, settings.ranking_url, settings.ranking_timeout_ms / 1000)
        yield Services(
            settings=settings,
            redis=redis,
            mongo=mongo,
            posts=posts,
            graph=graph,
            timelines=timelines,
            queue=queue,
            celebrities=celebrities,
            home=HomeTimeline(
                timelines,
                graph,
                posts,
                celebrities,
                timeline_max=settings.timeline_max,
                active_days=settings.active_days,
                retention_days=settings.retention_days,
                rebuild_lock_ms=settings.rebuild_lock_ms,
            ),
            friendships=Friendships(
                graph,
                timelines,
                posts,
                celebrities,
                queue,
                backfill_posts=settings.backfill_posts,
                timeline_max=settings.timeline_max,
            ),
            post_service=PostService(
                posts,
                queue,
                ids,
                RateLimiter(
                    redis,
                    namespace,
                    "posts",
                    settings.post_rate,
                    settings.post_rate_window_seconds,
                ),
                fanout_deadline=timedelta(seconds=settings.outbox_deadline_seconds),
            ),
            fanout=Fanout(
                graph,
                timelines,
                posts,
                celebrities,
                Announcer(redis, namespace),
                chunk_size=settings.fanout_chunk,
                active_seconds=settings.active_days * 86_400,
                backfill_posts=settings.backfill_posts,
            ),
            outbox=OutboxSweeper(
                redis,
                namespace,
                posts,
                queue,
                retry_after=timedelta(seconds=settings.outbox_deadline_seconds),
            ),
            ranker=ranker,
        )
    finally:
        await http.aclose()
        await graph.close()
        await mongo.close()
        await redis.aclose()
