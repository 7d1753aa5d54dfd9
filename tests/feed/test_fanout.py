import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from tests.conftest import eventually
from tests.graphs import ON_BOTH_GRAPHS
from tidings.app.settings import Settings
from tidings.app.stores import Stores
from tidings.app.worker import build_fanout
from tidings.feed.fanout import Fanout
from tidings.feed.fanout_worker import FanoutWorker
from tidings.feed.keys import Keys
from tidings.feed.queue import FanoutJob, FanoutQueue, JobKind
from tidings.feed.timeline import TimelineStore

# The graph is what these tests are about: they run on FalkorDB and on Neo4j.
pytestmark = ON_BOTH_GRAPHS


@pytest.fixture
def fanout(stores: Stores, settings: Settings, keys: Keys) -> Fanout:
    # Small chunks, so three friends already span chunks.
    return build_fanout(stores, settings.model_copy(update={"fanout_chunk": 3}), keys)


async def readers(timelines: TimelineStore, *users: str) -> None:
    for user in users:
        await timelines.build(user, [], time.time())


async def timeline(timelines: TimelineStore, user: str) -> list[int]:
    return (await timelines.read(user, None, 100)).post_ids


async def befriend_all(stores: Stores, author: str, friends: list[str]) -> None:
    for friend in friends:
        await stores.graph.add_friendship(author, friend)


async def test_delivery_reaches_author_and_every_friend_across_chunks(
    stores: Stores, timelines: TimelineStore, fanout: Fanout
) -> None:
    friends = [f"friend{i}" for i in range(10)]
    await befriend_all(stores, "author", friends)
    await readers(timelines, "author", "stranger", *friends)
    delivered = await fanout.handle(FanoutJob("0-1", JobKind.POST, "author", 99))
    assert delivered == 11
    for user in ["author", *friends]:
        assert await timeline(timelines, user) == [99]
    assert await timeline(timelines, "stranger") == []


async def test_a_batch_of_posts_delivers_what_each_post_would(
    stores: Stores, timelines: TimelineStore, fanout: Fanout, settings: Settings
) -> None:
    """Several authors at once: friends (a chunk's worth or more), a muter, an
    inactive reader, a celebrity and an unbuilt timeline, as `deliver` treats them."""
    await befriend_all(stores, "ann", ["bob", "cy", "dee"])  # a chunk (3) exactly
    await befriend_all(stores, "big", ["bob", "cy", "dee", "eve"])  # more: walked
    await befriend_all(stores, "star", ["bob"])
    await stores.graph.mark_celebrities(["star"])
    await stores.graph.mute("cy", "ann", now_ms=1)
    await readers(timelines, "ann", "big", "star", "bob", "cy", "eve")
    old = time.time() - settings.active_days * 86_400 - 60
    await timelines.build("dee", [], old)  # built, but has not read for too long
    jobs = [
        FanoutJob("0-1", JobKind.POST, "ann", 101),
        FanoutJob("0-2", JobKind.POST, "big", 102),
        FanoutJob("0-3", JobKind.POST, "star", 103),
        FanoutJob("0-4", JobKind.POST, "ann", 104),
        FanoutJob("0-5", JobKind.POST, "newcomer", 105),  # not in the graph yet
    ]
    delivered = await fanout.deliver_many(jobs)
    assert await timeline(timelines, "ann") == [104, 101]
    assert await timeline(timelines, "bob") == [104, 102, 101]  # not the celebrity's
    assert await timeline(timelines, "cy") == [102]  # muted ann
    assert await timeline(timelines, "dee") == []  # inactive
    assert await timeline(timelines, "eve") == [102]
    assert await timeline(timelines, "star") == [103]  # at home, pulled by friends
    # ann's two at home and at bob's (4), big's at home, bob's, cy's and eve's (4),
    # star's at home (1); newcomer's home timeline is not built.
    assert delivered == 9
    assert (await stores.graph.user_summaries(["newcomer"]))[0] is not None
    again = await fanout.deliver_many(jobs)  # jobs may run twice: nothing changes
    assert again == delivered
    assert await timeline(timelines, "bob") == [104, 102, 101]


async def test_the_same_message_delivered_twice_leaves_one_entry(
    stores: Stores, timelines: TimelineStore, fanout: Fanout
) -> None:
    await befriend_all(stores, "author", ["bob"])
    await readers(timelines, "bob")
    job = FanoutJob("0-1", JobKind.POST, "author", 1234)
    await fanout.handle(job)
    await fanout.handle(job)
    assert await timeline(timelines, "bob") == [1234]
    assert await timelines.size("bob") == 1


@pytest.fixture
async def running_worker(queue: FanoutQueue, fanout: Fanout) -> AsyncIterator[FanoutWorker]:
    worker = FanoutWorker(queue, fanout, "w1", batch=8, claim_idle_ms=60_000, block_ms=100)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    yield worker
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_worker_delivers_queued_posts_and_acknowledges_them(
    stores: Stores, timelines: TimelineStore, queue: FanoutQueue, running_worker: FanoutWorker
) -> None:
    await befriend_all(stores, "author", ["bob", "carol"])
    await readers(timelines, "author", "bob", "carol")
    for post_id in (1, 2, 3):
        await queue.enqueue(post_id, "author")

    async def delivered() -> bool:
        return await timeline(timelines, "carol") == [3, 2, 1]

    await eventually(delivered)
    await eventually(lambda: _stream_empty(queue))
    assert running_worker.delivered == 9


async def test_worker_stops_when_asked_and_reads_nothing_after(
    queue: FanoutQueue, fanout: Fanout
) -> None:
    worker = FanoutWorker(queue, fanout, "w2", batch=8, claim_idle_ms=60_000)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await queue.enqueue(4, "author")
    await eventually(lambda: _stream_empty(queue))  # it ran: it took and acknowledged one
    stop.set()
    await asyncio.wait_for(task, 3)  # raises if it does not stop, or stops with an error
    await queue.enqueue(5, "author")
    # The worker has returned: nothing is left running that could take this.
    sizes = await queue.sizes()
    assert (sizes.length, sizes.pending) == (1, 0)  # nobody took it


async def _stream_empty(queue: FanoutQueue) -> bool:
    return (await queue.sizes()).length == 0


async def test_worker_recovers_when_redis_loses_the_stream(
    stores: Stores,
    timelines: TimelineStore,
    queue: FanoutQueue,
    running_worker: FanoutWorker,
) -> None:
    await befriend_all(stores, "author", ["bob"])
    await readers(timelines, "author", "bob")
    await stores.redis.delete(queue.stream)  # group and all
    await asyncio.sleep(0.3)
    await queue.enqueue(77, "author")

    async def delivered() -> bool:
        return await timeline(timelines, "bob") == [77]

    await eventually(delivered)
