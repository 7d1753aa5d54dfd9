"""`tidings seed`: a heavy-tailed graph, its celebrities marked, history in MongoDB."""

import asyncio
import random
from array import array

import pytest

from tidings.app.settings import Settings
from tidings.app.stores import Stores
from tidings_tools.seed import (
    SeedConflict,
    SeedPlan,
    friendship_groups,
    pipelined,
    preferential_attachment,
    seed,
)


def test_preferential_attachment_has_no_loops_or_repeats_and_a_heavy_tail() -> None:
    edges = list(preferential_attachment(2_000, 10, random.Random(1)))
    assert all(a != b for a, b in edges)
    assert len({frozenset(edge) for edge in edges}) == len(edges)
    degrees: dict[int, int] = {}
    for a, b in edges:
        degrees[a] = degrees.get(a, 0) + 1
        degrees[b] = degrees.get(b, 0) + 1
    assert max(degrees.values()) > 5 * (2 * len(edges) / len(degrees))


def test_friendship_groups_list_each_friendship_once_and_count_degrees() -> None:
    plan = SeedPlan(users=300, avg_friends=8, celebrities=1, celebrity_friends=25, posts=0)
    degrees = array("i", bytes(4 * plan.users))
    groups = list(friendship_groups(plan, random.Random(3), degrees))
    pairs = [frozenset((user, friend)) for user, friends in groups for friend in friends]
    assert len(pairs) == len(set(pairs)) == plan.expected_edges
    assert sum(degrees) == 2 * plan.expected_edges - 25  # a celebrity is not counted
    assert [user for user, _ in groups].count(plan.celebrity_id(0)) == 1


async def test_pipelined_keeps_two_calls_in_flight_in_order() -> None:
    batches = iter([[1], [2], [3], [4], []])
    sent: list[int] = []
    in_flight = 0
    most = 0

    async def send(batch: list[int]) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        sent.extend(batch)
        in_flight -= 1

    await pipelined(lambda: next(batches), send)
    assert sent == [1, 2, 3, 4]
    assert most == 2


async def test_pipelined_stops_at_a_failed_call() -> None:
    made = 0

    def make() -> list[int]:
        nonlocal made
        made += 1
        return [made]

    async def send(batch: list[int]) -> None:
        if batch == [2]:
            raise ConnectionError("the store went away")
        await asyncio.sleep(0.01)

    with pytest.raises(ConnectionError):
        await pipelined(make, send)
    assert made <= 4


async def test_seeding_marks_celebrities_and_stores_posts(
    stores: Stores, settings: Settings
) -> None:
    settings = settings.model_copy(update={"celebrity_threshold": 30})
    plan = SeedPlan(users=200, avg_friends=6, celebrities=2, celebrity_friends=40, posts=50)
    report = await seed(settings, plan)
    assert report.users == 202
    assert report.posts == 50
    assert report.celebrities >= 2
    assert report.friendships == plan.expected_edges
    for celebrity in (plan.celebrity_id(0), plan.celebrity_id(1)):
        assert await stores.graph.is_celebrity(celebrity)
    [summary] = await stores.graph.user_summaries([plan.celebrity_id(0)])
    assert summary is not None
    assert summary.friend_count == 40
    assert not await stores.graph.is_celebrity(plan.user_id(150))
    posts = stores.mongo[settings.namespace]["posts"]
    assert await posts.count_documents({}) <= 50
    # Loaded into an empty collection without its indexes, which are then built.
    assert set(await posts.index_information()) >= {
        "_id_",
        "author_recent",
        "author_idempotency",
        "awaiting_fanout",
        "retention",
    }
    with pytest.raises(SeedConflict):
        await seed(settings, plan)
