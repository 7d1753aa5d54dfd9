"""The tie cache: friends and mutes from Redis, built from the graph, dropped on change."""

import asyncio
from typing import Any

import pytest

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


async def test_a_burst_of_new_viewers_builds_a_bounded_few_at_a_time(
    stores: Stores, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of viewers never seen before, at once: each built once, and at most
    the bound reading the graph at any moment (not all of them, past its pool)."""
    viewers = [f"v{i:03d}" for i in range(120)]
    for viewer in viewers:
        await stores.graph.add_friendship(viewer, "star")
    ties = TieCache(stores.redis, keys, stores.graph, keep_seconds=60, max_concurrent_builds=4)
    reading, most = 0, 0
    real = type(stores.graph).friends_page

    async def counted(graph: object, *args: Any, **kwargs: Any) -> Any:
        nonlocal reading, most
        reading += 1
        most = max(most, reading)
        try:
            await asyncio.sleep(0.005)  # a graph read takes time: let them overlap
            return await real(graph, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            reading -= 1

    monkeypatch.setattr(type(stores.graph), "friends_page", counted)
    asked = [ties.ties(viewer, ["star"]) for viewer in viewers for _twice in range(2)]
    answers = await asyncio.gather(*asked)
    assert answers == [[FRIEND]] * len(asked)
    assert ties.builds == len(viewers)  # the same viewer twice at once: one build
    assert 1 < most <= 4
