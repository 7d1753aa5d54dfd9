"""The API and a worker with Redis Cluster behind them: timelines, the queue, rate
limits, caches and pub/sub all work across slots."""

from typing import Any

import pytest

from tests.app.conftest import Api, token
from tests.app.live_server import served, socket
from tests.app.scenario import (
    DELETE,
    all_pages,
    befriend,
    cached,
    post,
    timeline_ids,
    wait_for_post,
)
from tests.conftest import eventually

CREATE = 'mutation { createPost(input: {body: "x"}) { post { id } } }'


@pytest.fixture
def overrides(redis_cluster_port: int) -> dict[str, Any]:
    return {
        "redis_url": f"redis://127.0.0.1:{redis_cluster_port}/0",
        "redis_cluster": True,
        "celebrity_threshold": 3,
        "timeline_max": 5,
        "post_rate": 12,
    }


async def test_posts_fan_out_page_and_delete_on_a_cluster(api: Api) -> None:
    assert api.settings.redis_cluster
    for friend in ("bob", "carol"):
        await befriend(api, "alice", friend)
    await timeline_ids(api, "alice")
    ids = [(await post(api, author, "x"))["id"] for author in ["bob", "carol"] * 4]
    await wait_for_post(api, "alice", ids[-1])
    assert len(await cached(api, "alice")) == 5  # capped; the rest comes from MongoDB
    assert await all_pages(api, "alice", first=3) == list(reversed(ids))

    await api.data("bob", DELETE, {"id": ids[0]})
    assert ids[0] not in await timeline_ids(api, "alice")

    async def cleaned() -> bool:
        return int(ids[0]) not in await cached(api, "alice")

    await eventually(cleaned)


async def test_celebrities_and_rate_limits_on_a_cluster(api: Api) -> None:
    for fan in ("alice", "fan1", "fan2"):
        await befriend(api, fan, "star")
    starred = (await post(api, "star", "hello fans"))["id"]
    assert starred in await timeline_ids(api, "alice")
    for _ in range(11):  # 12 per window; one post already made
        await api.data("star", CREATE)
    assert await api.error_code("star", CREATE) == "RATE_LIMITED"


async def test_live_posts_on_a_cluster(api: Api) -> None:
    await befriend(api, "alice", "bob")
    async with served(api.settings) as url, socket(url) as ws:
        assert (await ws.init(token("alice")))["type"] == "connection_ack"
        await ws.subscribe("1", "subscription { timelinePost { id } }")

        channel = api.keys.user_channel("alice")

        async def listening() -> bool:
            # PUBSUB NUMSUB on a cluster is answered per node: ask them all.
            counts: Any = await api.stores.redis.pubsub_numsub(channel, target_nodes="all")
            return any(count for _name, count in _pairs(counts))

        await eventually(listening)
        post_id = (await post(api, "bob", "live on a cluster"))["id"]
        assert (await ws.next_post(within=10))["id"] == post_id


def _pairs(counts: Any) -> list[tuple[str, int]]:
    if isinstance(counts, dict):  # per node
        return [pair for node_counts in counts.values() for pair in node_counts]
    return list(counts)
