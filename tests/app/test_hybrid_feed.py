"""The hybrid feed end to end: celebrities, returning users, lost caches, history."""

import asyncio
import time
from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import (
    DELETE,
    REMOVE,
    TIMELINE,
    all_pages,
    befriend,
    cached,
    post,
    queue_drained,
    timeline_ids,
    wait_until_cached,
)
from tests.conftest import eventually
from tests.graphs import ON_BOTH_GRAPHS
from tidings.app import components
from tidings.feed.lookup import StoreLookup
from tidings.stores.posts import PostStore

THRESHOLD = 3
CAP = 6

# The graph is what these tests are about: they run on FalkorDB and on Neo4j.
pytestmark = ON_BOTH_GRAPHS


@pytest.fixture
def overrides() -> dict[str, Any]:
    # No hysteresis here: the handover itself is under test, one friend each way.
    return {
        "celebrity_threshold": THRESHOLD,
        "celebrity_hysteresis": 1.0,
        "timeline_max": CAP,
        "backfill_posts": 50,
    }


async def test_celebrity_posts_are_pulled_and_merged_with_pushed_ones(api: Api) -> None:
    await befriend(api, "star", "alice", "fan1", "fan2")  # star reaches the threshold
    await befriend(api, "alice", "bob")
    await timeline_ids(api, "alice")  # alice is an active reader
    expected = []
    for i in range(4):
        expected.append((await post(api, "bob", f"bob {i}"))["id"])
        expected.append((await post(api, "star", f"star {i}"))["id"])
    await wait_until_cached(api, "alice", expected[-2])
    # Bob's posts were pushed; the celebrity's were not, and yet both are read.
    assert set(await cached(api, "alice")) == {int(i) for i in expected[0::2]}
    assert await all_pages(api, "alice", first=3) == list(reversed(expected))


async def test_celebrity_posts_for_a_page_come_from_one_query(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for star in ("s1", "s2", "s3"):
        await befriend(api, star, "alice", "x1", "x2")
    for star in ("s1", "s2", "s3"):
        await post(api, star, "hello")
    calls: list[tuple[str, ...]] = []
    real = PostStore.recent_by_authors

    async def spy(self: PostStore, authors: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(tuple(sorted(authors)))
        return await real(self, authors, *args, **kwargs)

    await timeline_ids(api, "alice")  # build first; the rebuild has queries of its own
    monkeypatch.setattr(PostStore, "recent_by_authors", spy)
    assert len(await timeline_ids(api, "alice", first=10)) == 3
    assert calls.count(("s1", "s2", "s3")) == 1


async def test_an_author_crossing_the_threshold_both_ways_loses_and_repeats_nothing(
    api: Api,
) -> None:
    await befriend(api, "alice", "xavier")
    await befriend(api, "fan1", "xavier")
    await timeline_ids(api, "alice")
    await timeline_ids(api, "xavier")  # built: his own posts show whether fan-out ran
    before = (await post(api, "xavier", "while ordinary"))["id"]
    await wait_until_cached(api, "alice", before)

    await befriend(api, "fan2", "xavier")  # xavier: 3 friends, a celebrity now
    during = (await post(api, "xavier", "while famous"))["id"]
    assert await all_pages(api, "alice", first=1) == [during, before]
    # The worker handled the post (its author's own timeline has it, the queue is
    # empty), and did not push it to alice: she pulls it.
    await wait_until_cached(api, "xavier", during)
    await eventually(lambda: queue_drained(api.queue))
    assert int(during) not in await cached(api, "alice")

    await api.data("fan2", REMOVE, {"id": "xavier"})  # back to 2 friends
    # At every moment of the handover, each post shows exactly once.
    deadline = time.monotonic() + 10
    while int(during) not in await cached(api, "alice"):
        assert await all_pages(api, "alice", first=1) == [during, before]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    after = (await post(api, "xavier", "ordinary again"))["id"]
    await wait_until_cached(api, "alice", after)
    assert await all_pages(api, "alice", first=2) == [after, during, before]


async def test_a_returning_user_reads_a_full_first_page(api: Api) -> None:
    await befriend(api, "alice", "bob", "carol")
    await timeline_ids(api, "alice")
    week_and_a_day_ago = time.time() - 8 * 86_400
    await api.stores.redis.set(api.keys.last_read("alice"), week_and_a_day_ago)
    ids = [(await post(api, author, "news"))["id"] for author in ["bob", "carol"] * 4]
    await eventually(lambda: queue_drained(api.queue))
    assert await cached(api, "alice") == []  # fan-out skipped the absent user
    data = await api.data("alice", TIMELINE, {"first": 5})
    assert [e["node"]["id"] for e in data["timeline"]["edges"]] == list(reversed(ids))[:5]
    assert data["timeline"]["pageInfo"]["hasNextPage"] is True
    # Active again: the next post is pushed.
    fresh = (await post(api, "bob", "welcome back"))["id"]
    await wait_until_cached(api, "alice", fresh)


async def test_a_lost_timeline_is_rebuilt_without_an_error(api: Api) -> None:
    await befriend(api, "alice", "bob")
    ids = [(await post(api, "bob", f"p{i}"))["id"] for i in range(4)]
    assert await timeline_ids(api, "alice") == list(reversed(ids))
    await api.stores.redis.delete(api.keys.timeline("alice"))
    assert await timeline_ids(api, "alice") == list(reversed(ids))
    assert await cached(api, "alice") == [int(i) for i in reversed(ids)]


async def test_paging_crosses_from_the_cache_into_history(api: Api) -> None:
    await befriend(api, "alice", "bob", "carol")
    await timeline_ids(api, "alice")
    ids = [(await post(api, author, "x"))["id"] for author in ["bob", "carol"] * 8]
    await wait_until_cached(api, "alice", ids[-1])
    assert len(await cached(api, "alice")) == CAP  # trimmed: 10 posts are history only
    for first in (1, 4, 5, 7, 100):
        assert await all_pages(api, "alice", first) == list(reversed(ids))


async def test_concurrent_first_reads_rebuild_once(api: Api) -> None:
    await befriend(api, "alice", "bob")
    ids = [(await post(api, "bob", f"p{i}"))["id"] for i in range(3)]
    home = components.home_timeline(api.stores, api.settings, api.keys)
    lookup = StoreLookup(api.stores.posts, api.stores.graph)
    pages = await asyncio.gather(*(home.page("alice", None, 10, lookup) for _ in range(8)))
    assert home.rebuilds == 1
    expected = [int(i) for i in reversed(ids)]
    assert all([post.id for _, post in page.edges] == expected for page in pages)


async def test_befriending_backfills_and_unfriending_prunes_both_sides(api: Api) -> None:
    await timeline_ids(api, "alice")
    await timeline_ids(api, "bob")
    from_bob = [(await post(api, "bob", f"b{i}"))["id"] for i in range(3)]
    from_alice = (await post(api, "alice", "a0"))["id"]
    await wait_until_cached(api, "alice", from_alice)
    await wait_until_cached(api, "bob", from_bob[-1])

    await befriend(api, "alice", "bob")
    assert set(await cached(api, "alice")) == {int(from_alice), *map(int, from_bob)}
    assert set(await cached(api, "bob")) == {int(from_alice), *map(int, from_bob)}
    await befriend(api, "alice", "bob")  # again: nothing changes
    assert len(await cached(api, "alice")) == 4

    await api.data("bob", REMOVE, {"id": "alice"})
    assert await cached(api, "alice") == [int(from_alice)]
    assert await cached(api, "bob") == [int(i) for i in reversed(from_bob)]
    assert await timeline_ids(api, "alice") == [from_alice]
    await api.data("bob", REMOVE, {"id": "alice"})
    assert await timeline_ids(api, "alice") == [from_alice]


async def test_a_deleted_post_disappears_everywhere(api: Api) -> None:
    await befriend(api, "alice", "bob")
    await timeline_ids(api, "alice")
    keep = (await post(api, "bob", "keep"))["id"]
    gone = (await post(api, "bob", "regret"))["id"]
    await wait_until_cached(api, "alice", gone)

    # Not hers: answered exactly as a post that does not exist.
    assert await api.error_code("alice", DELETE, {"id": gone}) == "NOT_FOUND"
    assert await api.error_code("bob", DELETE, {"id": "12345"}) == "NOT_FOUND"
    deleted = await api.data("bob", DELETE, {"id": gone})
    assert deleted == {"deletePost": {"deletedPostId": gone}}
    # At once, for every read:
    assert await timeline_ids(api, "alice") == [keep]
    assert await timeline_ids(api, "bob") == [keep]
    found = await api.data(
        "alice", "query($id: ID!) { post(id: $id) { id } posts(ids: [$id]) { id } }", {"id": gone}
    )
    assert found == {"post": None, "posts": [None]}
    assert await api.error_code("bob", DELETE, {"id": gone}) == "NOT_FOUND"

    # And soon from the stored timelines.
    async def cleaned() -> bool:
        return int(gone) not in await cached(api, "alice") + await cached(api, "bob")

    await eventually(cleaned)
