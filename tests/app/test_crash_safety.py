"""Processes die, Redis forgets, messages keep failing: no accepted post is lost."""

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tests.app.processes import REPO, environment, worker_process
from tests.app.scenario import active_readers, holding, queue_drained
from tests.conftest import Pipeline, eventually
from tidings.app.settings import Settings
from tidings.app.worker import run_worker
from tidings.stores.posts import FANOUT_DUE
from tidings_tools.devstack import TIDINGS


@contextlib.asynccontextmanager
async def worker_in_process(settings: Settings, **changes: object) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings.model_copy(update=changes), stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def killed_while_walking(
    pipeline: Pipeline, readers: list[str], post_id: int, log: Path, *, chunk: int
) -> None:
    """A worker process that walks friends `chunk` at a time, killed once 20 of these
    readers hold the post (a 1,500-friend walk is then far from done)."""
    settings, stores, keys = pipeline[:3]
    doomed = await worker_process(settings, log, fanout_chunk=str(chunk))
    try:

        async def walking() -> bool:
            return await holding(stores, keys, readers, post_id) >= 20

        await eventually(walking, within=20, interval=0.005)
    finally:
        doomed.kill()
        await doomed.wait()


async def test_a_post_survives_the_api_dying_between_insert_and_enqueue(pipeline: Pipeline) -> None:
    settings, stores, keys, timelines, queue = pipeline[:5]
    [reader] = await active_readers(stores, timelines, "author", 1)
    env = environment(settings, outbox_deadline_seconds="0.5")
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO / "tests/app/crash_after_insert.py"), "author", env=env
    )
    assert await child.wait() == -signal.SIGKILL
    database = stores.mongo[settings.namespace]
    [stored] = await database["posts"].find({"author_id": "author"}).to_list()
    assert FANOUT_DUE in stored  # accepted and durable, but never enqueued
    post_id = stored["_id"]
    assert await stores.redis.xlen(queue.stream) == 0  # the append never happened

    async with worker_in_process(settings, outbox_sweep_seconds=0.2):

        async def delivered() -> bool:
            return await holding(stores, keys, [reader], post_id) == 1

        await eventually(delivered, within=15)

        async def settled() -> bool:
            # Cleared once Redis has the delivery on disk (WAITAOF), not before.
            return await database["posts"].count_documents({FANOUT_DUE: {"$exists": True}}) == 0

        await eventually(settled, within=15)


async def test_a_worker_killed_mid_fanout_is_finished_by_another(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    settings, stores, keys, timelines, queue, posting = pipeline
    readers = await active_readers(stores, timelines, "author", 1_500)
    await queue.ensure_group()
    post = await posting.create("author", "to many friends", None)
    await killed_while_walking(pipeline, readers, post.id, tmp_path / "w.log", chunk=1)
    assert await holding(stores, keys, readers, post.id) < len(readers)
    assert await queue.pending_count() == 1

    async with worker_in_process(settings, fanout_claim_idle_ms=300):

        async def finished() -> bool:
            return await holding(stores, keys, readers, post.id) == len(readers)

        await eventually(finished, within=30)
        await eventually(lambda: queue_drained(queue))
    for reader in readers[:50]:
        assert (await timelines.read(reader, None, 10)).post_ids == [post.id]


async def test_a_worker_killed_mid_batch_is_finished_by_another_and_mutes_and_blocks_hold(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """A batch of small authors' posts (one pipeline) and a big author's (walked in
    pages of 10 friends, after the pipeline): the worker dies in the walk, with
    nothing of the batch acknowledged; another finishes it all, and a reader who
    muted an author, or was blocked by one, never gets that author's posts."""
    settings, stores, keys, timelines, queue, posting = pipeline
    authors = [f"batcher{i}" for i in range(6)]
    friends = [f"batch-r{i}" for i in range(8)]
    for author in authors:
        await stores.graph.befriend_many(author, friends)
    walked = await active_readers(stores, timelines, "walker", 1_500)
    now = time.time()
    for user in [*friends, *authors]:
        await timelines.build(user, [], now)
    muter, blocked = friends[0], friends[1]
    await stores.graph.mute(muter, authors[0], now_ms=1)
    await stores.graph.block(authors[1], blocked, now_ms=1)
    await queue.ensure_group()
    # Written before any worker runs, so the first one reads them as one batch.
    posts = [await posting.create(author, f"batched by {author}", None) for author in authors]
    posts += [await posting.create(authors[2], "another", None)]
    big = await posting.create("walker", "to many friends", None)
    await killed_while_walking(pipeline, walked, big.id, tmp_path / "w.log", chunk=10)
    assert await holding(stores, keys, walked, big.id) < len(walked)
    assert await queue.pending_count() == len(posts) + 1  # none acknowledged

    async with worker_in_process(settings, fanout_claim_idle_ms=300):

        async def finished() -> bool:
            return await holding(stores, keys, walked, big.id) == len(walked)

        await eventually(finished, within=30)
        await eventually(lambda: queue_drained(queue))
    for post in posts:
        expected = len(friends) - (post.author_id in (authors[0], authors[1]))
        assert await holding(stores, keys, friends, post.id) == expected
    by_author = {post.id: post.author_id for post in posts}
    held_by_muter = set((await timelines.read(muter, None, 100)).post_ids)
    assert held_by_muter == {post_id for post_id, a in by_author.items() if a != authors[0]}
    held_by_blocked = set((await timelines.read(blocked, None, 100)).post_ids)
    assert held_by_blocked == {post_id for post_id, a in by_author.items() if a != authors[1]}


async def test_a_message_that_keeps_failing_is_dead_lettered_then_replayed(
    pipeline: Pipeline,
) -> None:
    settings, stores, keys, timelines, queue, posting = pipeline
    [broken, healthy] = await active_readers(stores, timelines, "author", 2)
    # A timeline key of the wrong type makes every delivery to it fail, for real.
    await stores.redis.delete(keys.timeline(broken))
    await stores.redis.set(keys.timeline(broken), "not a sorted set")
    post = await posting.create("author", "doomed to fail", None)

    async with worker_in_process(settings, fanout_claim_idle_ms=50, fanout_max_attempts=3):

        async def buried() -> bool:
            return len(await queue.dead_letters()) == 1

        await eventually(buried, within=20)
    [letter] = await queue.dead_letters()
    assert (letter.kind, letter.post_id, letter.author_id) == ("post", str(post.id), "author")
    assert letter.attempts == 3
    assert "WRONGTYPE" in letter.error
    assert await queue.pending_count() == 0

    env = environment(settings)
    listing = await asyncio.create_subprocess_exec(
        TIDINGS, "dead-letters", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await listing.communicate()
    assert listing.returncode == 0
    assert f"post={post.id}" in out.decode()
    assert "WRONGTYPE" in out.decode()

    await stores.redis.delete(keys.timeline(broken))
    await timelines.build(broken, [], time.time())
    replay = await asyncio.create_subprocess_exec(
        TIDINGS, "dead-letters", "--replay-all", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await replay.communicate()
    assert "replayed 1 of 1" in out.decode()
    assert await queue.dead_letters() == []
    async with worker_in_process(settings):

        async def delivered() -> bool:
            return await holding(stores, keys, [broken, healthy], post.id) == 2

        await eventually(delivered)


async def test_sigterm_lets_the_worker_finish_its_batch_and_exit_0(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    settings, stores, keys, timelines, queue, posting = pipeline
    readers = await active_readers(stores, timelines, "author", 1_000)
    worker = await worker_process(settings, tmp_path / "w.log", fanout_chunk="1")
    await queue.ensure_group()
    post = await posting.create("author", "finish me", None)

    async def started() -> bool:
        return await holding(stores, keys, readers, post.id) >= 10

    await eventually(started, within=20, interval=0.005)
    worker.terminate()
    assert await asyncio.wait_for(worker.wait(), 15) == 0
    assert await holding(stores, keys, readers, post.id) == len(readers)
    assert await queue.pending_count() == 0
