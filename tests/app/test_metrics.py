"""Prometheus metrics: the API's on /metrics, a worker's on a port of its own."""

import asyncio
import time

import httpx

from tests.app.conftest import Api
from tests.conftest import eventually
from tidings.app.devstack import free_port
from tidings.app.services import Services
from tidings.app.settings import Settings
from tidings.app.worker import run_worker


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


async def test_api_metrics_count_posts_and_time_reads(api: Api) -> None:
    await api.data("alice", 'mutation { createPost(input: {body: "hi"}) { post { id } } }')
    await api.data("alice", "{ timeline { edges { cursor } } }")
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "tidings_posts_created_total") == 1
    assert sample(text, "tidings_timeline_read_seconds_count") == 1
    assert sample(text, "tidings_timeline_rebuilds_total") == 1  # alice's first read
    for name in (
        "tidings_celebrity_merges_total",
        "tidings_celebrity_cache_hits_total",
        "tidings_celebrity_cache_misses_total",
        "tidings_ranking_fallbacks_total",
        "tidings_live_dropped_events_total",
    ):
        assert sample(text, name) >= 0


async def test_worker_metrics_on_their_own_port(services: Services, settings: Settings) -> None:
    port = free_port()
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings.model_copy(update={"worker_metrics_port": port}), stop)
    )
    try:
        await services.timelines.build("alice", [], time.time())
        await services.post_service.create("alice", "hi", None)

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
        for name in (
            "tidings_fanout_stream_length",
            "tidings_fanout_pending",
            "tidings_fanout_dead_letters",
        ):
            assert sample(text, name) >= 0
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
