import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from tests.conftest import eventually
from tidings.app.services import Services
from tidings.feed.fanout import Fanout, FanoutWorker
from tidings.feed.live import Announcer
from tidings.feed.queue import FanoutJob, JobKind


@pytest.fixture
def fanout(services: Services) -> Fanout:
    return Fanout(
        services.graph,
        services.timelines,
        services.posts,
        services.celebrities,
        Announcer(services.redis, services.settings.namespace),
        chunk_size=3,
        active_seconds=3_600,
        backfill_posts=10,
    )


async def readers(services: Services, *users: str) -> None:
    for user in users:
        await services.timelines.build(user, [], time.time())


async def timeline(services: Services, user: str) -> list[int]:
    return (await services.timelines.read(user, None, 100)).post_ids


async def befriend_all(services: Services, author: str, friends: list[str]) -> None:
    for friend in friends:
        await services.graph.add_friendship(author, friend)


async def test_delivery_reaches_author_and_every_friend_across_chunks(
    services: Services, fanout: Fanout
) -> None:
    friends = [f"friend{i}" for i in range(10)]
    await befriend_all(services, "author", friends)
    await readers(services, "author", "stranger", *friends)
    delivered = await fanout.handle(FanoutJob("0-1", JobKind.POST, "author", 99))
    assert delivered == 11
    for user in ["author", *friends]:
        assert await timeline(services, user) == [99]
    assert await timeline(services, "stranger") == []


async def test_the_same_message_delivered_twice_leaves_one_entry(
    services: Services, fanout: Fanout
) -> None:
    await befriend_all(services, "author", ["bob"])
    await readers(services, "bob")
    job = FanoutJob("0-1", JobKind.POST, "author", 1234)
    await fanout.handle(job)
    await fanout.handle(job)
    assert await timeline(services, "bob") == [1234]
    assert await services.timelines.size("bob") == 1


async def test_queue_hands_out_each_message_once_until_acknowledged(services: Services) -> None:
    queue = services.queue
    await queue.enqueue(5, "alice")
    [job] = await queue.read("c1", count=10, block_ms=100)
    assert (job.post_id, job.author_id) == (5, "alice")
    assert await queue.read("c2", count=10, block_ms=50) == []
    assert await queue.pending_count() == 1
    await queue.ack([job.message_id])
    assert await queue.pending_count() == 0
    assert await services.redis.xlen(queue.stream) == 0


async def test_unacknowledged_message_is_claimed_by_another_consumer(services: Services) -> None:
    queue = services.queue
    await queue.enqueue(6, "alice")
    [taken] = await queue.read("crashed", count=10, block_ms=100)
    await asyncio.sleep(0.05)
    [claimed] = await queue.claim_stale("survivor", min_idle_ms=20, count=10)
    assert claimed == taken


async def test_malformed_messages_are_dropped_not_retried(services: Services) -> None:
    queue = services.queue
    await services.redis.xadd(queue.stream, {"post_id": "nope", "author_id": "alice"})
    await services.redis.xadd(queue.stream, {"post_id": "1", "author_id": "bad id!"})
    await queue.enqueue(8, "alice")
    jobs = await queue.read("c1", count=10, block_ms=100)
    assert [job.post_id for job in jobs] == [8]
    assert await queue.pending_count() == 1


@pytest.fixture
async def running_worker(services: Services, fanout: Fanout) -> AsyncIterator[FanoutWorker]:
    worker = FanoutWorker(services.queue, fanout, "w1", batch=8, claim_idle_ms=60_000, block_ms=100)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    yield worker
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_worker_delivers_queued_posts_and_acknowledges_them(
    services: Services, running_worker: FanoutWorker
) -> None:
    await befriend_all(services, "author", ["bob", "carol"])
    await readers(services, "author", "bob", "carol")
    for post_id in (1, 2, 3):
        await services.queue.enqueue(post_id, "author")

    async def delivered() -> bool:
        return await timeline(services, "carol") == [3, 2, 1]

    await eventually(delivered)
    await eventually(lambda: _stream_empty(services))
    assert running_worker.delivered == 9


async def test_worker_stops_promptly_when_asked(services: Services, fanout: Fanout) -> None:
    worker = FanoutWorker(services.queue, fanout, "w2", batch=8, claim_idle_ms=60_000)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 3)
    assert task.done()
    assert task.exception() is None


async def _stream_empty(services: Services) -> bool:
    return await services.redis.xlen(services.queue.stream) == 0


async def test_worker_recovers_when_redis_loses_the_stream(
    services: Services, running_worker: FanoutWorker
) -> None:
    await befriend_all(services, "author", ["bob"])
    await readers(services, "author", "bob")
    await services.redis.delete(services.queue.stream)  # group and all
    await asyncio.sleep(0.3)
    await services.queue.enqueue(77, "author")

    async def delivered() -> bool:
        return await timeline(services, "bob") == [77]

    await eventually(delivered)


async def test_every_group_command_recreates_a_lost_group(services: Services) -> None:
    queue = services.queue
    for command in ("claim", "read"):
        await services.redis.delete(queue.stream)
        if command == "claim":
            assert await queue.claim_stale("c1", min_idle_ms=0, count=10) == []
        else:
            assert await queue.read("c1", count=10, block_ms=10) == []
        await queue.enqueue(9, "alice")
        [job] = await queue.read("c1", count=10, block_ms=100)
        assert job.post_id == 9
