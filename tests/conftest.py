"""Real servers for the whole session, on free loopback ports; a namespace per test.

Each test gets its own Redis key prefix, MongoDB database and graph, and cleans
up only those: no test flushes data it did not create.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pymongo import AsyncMongoClient

from tests.graphs import require_neo4j
from tests.ranking_service import ranking_service  # noqa: F401  (a fixture)
from tidings.app import components
from tidings.app.settings import Settings
from tidings.app.stores import (
    Stores,
    connect_graph,
    mongo_database_name,
    open_stores,
    prepare_schemas,
)
from tidings.feed.keys import Keys
from tidings.feed.posts import PostService
from tidings.feed.queue import FanoutQueue
from tidings.feed.ties import TieCache
from tidings.feed.timeline import TimelineStore
from tidings.stores.breaker import StoreUnavailable
from tidings.stores.redis import connect_redis
from tidings_tools import devstack, neo4j, object_storage
from tidings_tools.cluster import start_redis_cluster

JWT_SECRET = "test-secret-with-enough-entropy-for-hs256-0123456789"


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root: Path = tmp_path_factory.mktemp("redis")
    port = devstack.free_port()
    server = devstack.start_redis(root / "data", port, root / "redis.log")
    yield port
    server.stop()


@pytest.fixture(scope="session")
def mongo_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root: Path = tmp_path_factory.mktemp("mongo")
    port = devstack.free_port()
    server = devstack.start_secantus(root / "data", port, root / "mongo.log")
    yield port
    server.stop()


class ObjectServer(NamedTuple):
    port: int
    secret: str


@pytest.fixture(scope="session")
def object_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectServer | None]:
    """The S3 server (versitygw) with the media bucket, or None where it cannot run
    here: tests of media then say so (tests/needs.py), the others run without."""
    if object_storage.unavailable() is not None:
        yield None
        return
    root: Path = tmp_path_factory.mktemp("objects")
    port = devstack.free_port()
    secret = object_storage.secret(root)
    server = object_storage.start_versitygw(root / "data", port, root / "versitygw.log", secret)
    object_storage.create_bucket(port, secret)
    yield ObjectServer(port, secret)
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real 3-primary Redis Cluster; tests reach it through its first node."""
    root: Path = tmp_path_factory.mktemp("redis-cluster")
    ports = devstack.free_ports(3)
    nodes = start_redis_cluster(root / "data", ports, root)
    yield ports[0]
    for node in nodes:
        node.stop()


@pytest.fixture(scope="session")
def neo4j_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Neo4j 5 server for the session: TIDINGS_TEST_NEO4J_URI's, or one started here."""
    if external := os.environ.get("TIDINGS_TEST_NEO4J_URI"):
        yield external
        return
    require_neo4j()
    root: Path = tmp_path_factory.mktemp("neo4j")
    port = devstack.free_port()
    secret = neo4j.password(root)
    server = neo4j.start_neo4j(root / "home", port, root / "neo4j.log", secret, heap="1g")
    yield neo4j.bolt_url(port, secret)
    server.stop()


@pytest.fixture
def graph_backend(request: pytest.FixtureRequest) -> str:
    """FalkorDB unless a module asks for both (tests/graphs.py)."""
    backend: str = getattr(request, "param", "falkordb")
    return backend


@pytest.fixture
def settings(
    redis_port: int,
    mongo_port: int,
    object_server: ObjectServer | None,
    tmp_path: Path,
    graph_backend: str,
    request: pytest.FixtureRequest,
) -> Settings:
    graph_url = f"falkordb://127.0.0.1:{redis_port}"
    if graph_backend == "neo4j":
        graph_url = request.getfixturevalue("neo4j_uri")
    media: dict[str, Any] = {}
    if object_server is not None:
        # One bucket for the session; each test's objects under its namespace.
        media = {
            "s3_bucket": object_storage.BUCKET,
            "s3_endpoint_url": f"http://127.0.0.1:{object_server.port}",
            "s3_access_key_id": object_storage.ACCESS_KEY_ID,
            "s3_secret_access_key": object_server.secret,
        }
    return Settings(
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        graph_url=graph_url,
        mongo_uri=f"mongodb://127.0.0.1:{mongo_port}",
        jwt_secret=JWT_SECRET,
        data_dir=tmp_path / "data",
        fanout_claim_idle_ms=60_000,
        # Every API test stops its worker: an idle read must not hold that up.
        fanout_block_ms=100,
        # Tests post in bursts; the limit itself is tested with its own settings.
        post_rate=10_000,
        **media,
    ).in_namespace(f"t{uuid.uuid4().hex[:12]}")


async def drop_namespace(settings: Settings) -> None:
    """Deletes what one test created, and nothing else."""
    redis = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
    try:
        pattern = Keys(settings.namespace).everything
        keys = [key async for key in redis.scan_iter(match=pattern, count=500)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
    graph = connect_graph(settings.graph_url, settings.namespace)
    try:
        await graph.drop()
    finally:
        await graph.close()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_uri)
    try:
        await mongo.drop_database(mongo_database_name(settings.mongo_uri, settings.namespace))
    finally:
        await mongo.close()
    if settings.s3_bucket:
        async with open_stores(settings) as opened:
            assert opened.objects is not None
            try:
                async for page in opened.objects.listing():
                    await opened.objects.delete([item.key for item in page])
            except StoreUnavailable:
                pass  # a test that pointed at a dead server stored nothing there


@pytest.fixture
async def stores(settings: Settings) -> AsyncIterator[Stores]:
    """The test's stores, schemas ready; everything it created is dropped after."""
    try:
        async with open_stores(settings) as opened:
            await prepare_schemas(opened, settings)
            yield opened
    finally:
        await drop_namespace(settings)


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return Keys(settings.namespace)


@pytest.fixture
def timelines(stores: Stores, settings: Settings, keys: Keys) -> TimelineStore:
    return components.timeline_store(stores, settings, keys)


@pytest.fixture
async def queue(stores: Stores, settings: Settings, keys: Keys) -> FanoutQueue:
    queue = components.fanout_queue(stores, settings, keys)
    await queue.ensure_group()
    return queue


@pytest.fixture
def ties(stores: Stores, settings: Settings, keys: Keys) -> TieCache:
    return components.tie_cache(stores, settings, keys)


@pytest.fixture
async def posting(stores: Stores, settings: Settings, keys: Keys) -> PostService:
    return await components.post_service(stores, settings, keys)


class Pipeline(NamedTuple):
    """The write path as the crash and chaos tests drive it, unpacked in one line."""

    settings: Settings
    stores: Stores
    keys: Keys
    timelines: TimelineStore
    queue: FanoutQueue
    posting: PostService


@pytest.fixture
def pipeline(
    settings: Settings,
    stores: Stores,
    keys: Keys,
    timelines: TimelineStore,
    queue: FanoutQueue,
    posting: PostService,
) -> Pipeline:
    return Pipeline(settings, stores, keys, timelines, queue, posting)


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 10.0, interval: float = 0.02
) -> None:
    """Waits until `check` holds: for effects that are asynchronous by design."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)
