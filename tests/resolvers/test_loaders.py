"""The request's loaders, as the read side's lookup port: batched, primed, in order."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.spies import record_calls
from tidings.app.stores import Stores
from tidings.feed.post_cache import PostCache
from tidings.feed.ties import TieCache
from tidings.resolvers.loaders import ReadSources, build_loaders
from tidings.stores.posts import PostDocument, PostStore

DUE = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=1)


def post(post_id: int, author: str) -> PostDocument:
    return PostDocument(post_id, author, f"post {post_id}", datetime(2026, 1, 2, tzinfo=UTC))


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every PostStore query made, in order."""
    return record_calls(monkeypatch, (PostStore, "get_many"), (PostStore, "recent_by_authors"))


async def test_concurrent_lookups_by_id_are_one_query_in_the_order_asked(
    stores: Stores, ties: TieCache, queries: list[str]
) -> None:
    for post_id, author in ((1, "a"), (2, "b"), (3, "a")):
        await stores.posts.insert(post(post_id, author), fanout_due=DUE)
    loaders = build_loaders(
        ReadSources(stores.posts, stores.graph, ties, PostCache(0, 60), stores.stats)
    )
    first, second = await asyncio.gather(loaders.posts([3, 99, 1]), loaders.posts([2]))
    assert [p.id if p else None for p in first] == [3, None, 1]
    assert [p.id if p else None for p in second] == [2]
    assert queries == ["get_many"]


async def test_posts_found_by_author_need_no_second_query_to_hydrate(
    stores: Stores, ties: TieCache, queries: list[str]
) -> None:
    for post_id in (1, 2, 3):
        await stores.posts.insert(post(post_id, "a"), fanout_due=DUE)
    loaders = build_loaders(
        ReadSources(stores.posts, stores.graph, ties, PostCache(0, 60), stores.stats)
    )
    recent = await loaders.recent(["a"], None, 2)
    assert [p.id for p in recent] == [3, 2]
    hydrated = await loaders.posts([3, 2])
    assert hydrated == recent
    assert queries == ["recent_by_authors"]
    older = await loaders.recent(["a"], None, 10, since_id=2)
    assert [p.id for p in older] == [3, 2]


async def test_a_later_request_finds_posts_in_the_process_cache(
    stores: Stores, ties: TieCache, queries: list[str]
) -> None:
    for post_id in (1, 2):
        await stores.posts.insert(post(post_id, "a"), fanout_due=DUE)
    cache = PostCache(100, 60)
    first = build_loaders(ReadSources(stores.posts, stores.graph, ties, cache, stores.stats))
    assert [p.id if p else None for p in await first.posts([1, 2, 3])] == [1, 2, None]
    second = build_loaders(ReadSources(stores.posts, stores.graph, ties, cache, stores.stats))
    assert [p.id if p else None for p in await second.posts([2, 1])] == [2, 1]
    assert queries == ["get_many"]  # the second request asked MongoDB nothing
    assert (cache.hits, cache.misses) == (2, 3)
    cache.evict(1)
    await build_loaders(ReadSources(stores.posts, stores.graph, ties, cache, stores.stats)).posts(
        [1]
    )
    assert queries == ["get_many", "get_many"]
