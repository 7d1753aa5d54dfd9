"""Prometheus metrics: the API's and a worker's each on a port of their own."""

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.app.conftest import Api
from tests.conftest import eventually
from tidings.app.settings import Settings
from tidings.app.stores import Stores
from tidings.app.worker import run_worker
from tidings.feed.keys import Keys
from tidings.feed.posts import PostService
from tidings.feed.timeline import TimelineStore
from tidings_tools.devstack import free_port


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {"api_metrics_port": free_port()}


async def test_api_metrics_count_posts_and_time_reads(api: Api) -> None:
    await api.data("alice", 'mutation { createPost(input: {body: "hi"}) { post { id } } }')
    for _ in range(2):
        await api.data("alice", "{ timeline { edges { cursor } } }")
    assert (await api.http.get("/metrics")).status_code == 404  # not on the public listener
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{api.settings.api_metrics_port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "tidings_posts_created_total") == 1
    assert sample(text, "tidings_timeline_read_seconds_count") == 2
    assert sample(text, "tidings_timeline_rebuilds_total") == 1  # alice's first read only
    # Her celebrity list came from the graph once, then from the cache.
    assert sample(text, "tidings_celebrity_cache_misses_total") == 1
    assert sample(text, "tidings_celebrity_cache_hits_total") == 1
    # Nothing of this scenario merges celebrities, ranks remotely or streams live.
    assert sample(text, "tidings_celebrity_merges_total") == 0
    assert sample(text, "tidings_ranking_fallbacks_total") == 0
    assert sample(text, "tidings_live_dropped_events_total") == 0
    assert sample(text, "tidings_requests_shed_total") == 0


async def test_worker_metrics_on_their_own_port(
    stores: Stores,
    keys: Keys,
    timelines: TimelineStore,
    posting: PostService,
    settings: Settings,
) -> None:
    # A message that already failed for good: the dead-letter gauge must count it.
    await stores.redis.xadd(keys.dead_letters, {"kind": "post", "post_id": "1", "author_id": "x"})
    port = free_port()
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings.model_copy(update={"worker_metrics_port": port}), stop)
    )
    try:
        await timelines.build("alice", [], time.time())
        await posting.create("alice", "hi", None)

        async def exported() -> bool:
            async with httpx.AsyncClient() as http:
                try:
                    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                except httpx.TransportError:
                    return False
            return (
                "tidings_fanout_lag_seconds_count" in text
                and sample(text, "tidings_fanout_lag_seconds_count") == 1
            )

        await eventually(exported)
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert sample(text, "tidings_fanout_deliveries_total") == 1  # alice's own timeline
        assert sample(text, "tidings_fanout_failures_total") == 0
        assert sample(text, "tidings_fanout_dead_letters") == 1

        async def queue_empty_reported() -> bool:
            async with httpx.AsyncClient() as http:
                text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            return (
                sample(text, "tidings_fanout_stream_length") == 0
                and sample(text, "tidings_fanout_pending") == 0
            )

        # The gauges are read from Redis every few seconds, not counted.
        await eventually(queue_empty_reported, within=15, interval=0.5)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
