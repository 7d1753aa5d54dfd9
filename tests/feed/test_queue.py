"""The fan-out queue: a stream read by one consumer group, at least once."""

import asyncio

from tidings.app.stores import Stores
from tidings.feed.queue import FanoutQueue


async def test_queue_hands_out_each_message_once_until_acknowledged(
    stores: Stores, queue: FanoutQueue
) -> None:
    await queue.enqueue(5, "alice")
    [job] = await queue.read("c1", count=10, block_ms=100)
    assert (job.post_id, job.author_id) == (5, "alice")
    assert await queue.read("c2", count=10, block_ms=50) == []
    assert await queue.pending_count() == 1
    await queue.ack([job.message_id])
    assert await queue.pending_count() == 0
    assert await stores.redis.xlen(queue.stream) == 0


async def test_unacknowledged_message_is_claimed_by_another_consumer(
    stores: Stores, queue: FanoutQueue
) -> None:
    await queue.enqueue(6, "alice")
    [taken] = await queue.read("crashed", count=10, block_ms=100)
    await asyncio.sleep(0.05)
    [claimed] = await queue.claim_stale("survivor", min_idle_ms=20, count=10)
    assert claimed == taken


async def test_malformed_messages_are_dropped_not_retried(
    stores: Stores, queue: FanoutQueue
) -> None:
    await stores.redis.xadd(queue.stream, {"post_id": "nope", "author_id": "alice"})
    await stores.redis.xadd(queue.stream, {"post_id": "1", "author_id": "bad id!"})
    await queue.enqueue(8, "alice")
    jobs = await queue.read("c1", count=10, block_ms=100)
    assert [job.post_id for job in jobs] == [8]
    assert await queue.pending_count() == 1


async def test_every_group_command_recreates_a_lost_group(
    stores: Stores, queue: FanoutQueue
) -> None:
    for command in ("claim", "read"):
        await stores.redis.delete(queue.stream)
        if command == "claim":
            assert await queue.claim_stale("c1", min_idle_ms=0, count=10) == []
        else:
            assert await queue.read("c1", count=10, block_ms=10) == []
        await queue.enqueue(9, "alice")
        [job] = await queue.read("c1", count=10, block_ms=100)
        assert job.post_id == 9
