"""Chaos: users post continuously while workers are SIGKILLed and restarted.

Afterwards every timeline holds every expected post exactly once, and nothing else.
"""

import asyncio
import random
import signal
import time
from pathlib import Path

import pytest

from tests.app.processes import worker_process
from tests.app.scenario import queue_drained
from tests.conftest import Pipeline, eventually

USERS = [f"chaos{i}" for i in range(6)]


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_posts_survive_workers_killed_again_and_again(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    settings, stores, keys, timelines, queue, posting = pipeline
    for index, user in enumerate(USERS):
        await stores.graph.befriend_many(user, USERS[index + 1 :])
        await timelines.build(user, [], time.time())
    worker_settings = {
        "fanout_claim_idle_ms": "500",
        "outbox_deadline_seconds": "3",
        "timeline_max": "100000",  # nothing trimmed: every post must be there
    }
    workers = [
        await worker_process(settings, tmp_path / f"w{n}.log", **worker_settings) for n in range(2)
    ]
    accepted: list[int] = []
    writing = True
    rng = random.Random(20)  # the same pauses and victims every run

    async def write(user: str) -> None:
        while writing:
            accepted.append((await posting.create(user, "chaos", None)).id)
            await asyncio.sleep(rng.uniform(0.01, 0.05))

    writers = [asyncio.create_task(write(user)) for user in USERS[:4]]
    # How each victim ended: -SIGKILL if it was still running when killed.
    endings: list[int] = []
    try:
        for _ in range(5):
            await asyncio.sleep(1.5)
            victim = rng.randrange(len(workers))
            workers[victim].kill()
            endings.append(await workers[victim].wait())
            workers[victim] = await worker_process(
                settings, tmp_path / f"w{victim}.log", **worker_settings
            )
        writing = False
        await asyncio.gather(*writers)

        async def settled() -> bool:
            return await queue_drained(queue)

        await eventually(settled, within=60, interval=0.1)
    finally:
        writing = False
        for worker in workers:
            worker.terminate()
        for worker in workers:
            await worker.wait()

    # Every kill hit a running worker (one that had died on its own would not count).
    assert endings == [-signal.SIGKILL] * 5
    assert len(accepted) > 100
    expected = set(accepted)  # everyone is everyone's friend, and sees their own posts
    for user in USERS:
        members: list[str] = await stores.redis.zrange(keys.timeline(user), 0, -1)  # type: ignore[assignment]
        held = {int(member) for member in members if member != "0"}
        assert held == expected, (
            f"{user}: {len(expected - held)} missing, {len(held - expected)} extra"
        )
    assert await queue.dead_letters() == []
