"""The tie cache: friends and mutes from Redis, built from the graph, dropped on change."""

import asyncio

from tidings.app.stores import Stores
from tidings.feed.keys import Keys
from tidings.feed.ties import TieCache
from tidings.stores.graph import Relation

FRIEND, MUTED_FRIEND, NOBODY = Relation(friends=True), Relation(True, True), Relation()


async def test_answers_from_the_graph_once_then_from_the_cache(
    stores: Stores, ties: TieCache
) -> None:
    await stores.graph.befriend_many("viewer", ["a", "b"])
    await stores.graph.mute("viewer", "b", now_ms=1)
    await stores.graph.mute("viewer", "stranger", now_ms=2)
    expected = [FRIEND, MUTED_FRIEND, Relation(muted=True), NOBODY]
    assert await ties.ties("viewer", ["a", "b", "stranger", "ghost"]) == expected
    assert await ties.ties("viewer", ["b", "a"]) == [MUTED_FRIEND, FRIEND]
    assert ties.builds == 1
    assert await ties.ties("loner", ["a"]) == [NOBODY]  # built, and empty
    assert await ties.ties("loner", ["a"]) == [NOBODY]
    assert ties.builds == 2


async def test_a_change_is_seen_at_once_after_forget(stores: Stores, ties: TieCache) -> None:
    await stores.graph.befriend_many("viewer", ["a"])
    assert await ties.ties("viewer", ["a"]) == [FRIEND]
    await stores.graph.remove_friendship("viewer", "a")
    assert await ties.ties("viewer", ["a"]) == [FRIEND]  # cached, until told
    await ties.forget(["viewer"])
    assert await ties.ties("viewer", ["a"]) == [NOBODY]


async def test_a_build_that_raced_a_change_is_dropped(
    stores: Stores, keys: Keys, ties: TieCache
) -> None:
    await stores.graph.befriend_many("viewer", ["a"])
    real = stores.graph.friends_page

    async def friends_then_change(user_id: str, after: str | None, limit: int) -> list[str]:
        page = await real(user_id, after, limit)
        # The friendship ends after the graph was read, before the sets are swapped in.
        await stores.graph.remove_friendship("viewer", "a")
        await ties.forget(["viewer"])
        return page

    stores.graph.friends_page = friends_then_change  # type: ignore[method-assign]
    try:
        answer = await ties.ties("viewer", ["a"])
    finally:
        stores.graph.friends_page = real  # type: ignore[method-assign]
    assert answer == [NOBODY]  # the stale build was not used
    assert await ties.ties("viewer", ["a"]) == [NOBODY]
    for pattern in (
        keys.friend_set("viewer", building="*"),
        keys.mute_set("viewer", building="*"),
    ):
        assert [key async for key in stores.redis.scan_iter(match=pattern)] == []


async def test_concurrent_first_reads_agree(stores: Stores, ties: TieCache) -> None:
    await stores.graph.befriend_many("viewer", [f"f{i}" for i in range(2_500)])
    answers = await asyncio.gather(*(ties.ties("viewer", ["f7", "f2400", "x"]) for _ in range(5)))
    assert all(answer == [FRIEND, FRIEND, NOBODY] for answer in answers)
