from datetime import UTC, datetime

import pytest

from tidings.app.settings import Settings
from tidings.app.stores import Stores, prepare_schemas
from tidings.feed.ids import post_id_time
from tidings.stores.posts import PostDocument, PostIdTaken

DUE = datetime(2030, 1, 1, tzinfo=UTC)


def post(post_id: int, author: str = "alice", client: str | None = None) -> PostDocument:
    created = datetime.fromtimestamp(1_790_000_000 + post_id, UTC)
    return PostDocument(post_id, author, f"body {post_id}", created, client)


async def test_inserted_posts_come_back_whole(stores: Stores, settings: Settings) -> None:
    await stores.posts.insert(post(1, client="ios"), fanout_due=DUE)
    await stores.posts.insert(post(2), fanout_due=DUE)
    found = await stores.posts.get_many([2, 1, 3])
    assert found == {1: post(1, client="ios"), 2: post(2)}


async def test_an_id_is_never_stored_twice(stores: Stores, settings: Settings) -> None:
    await stores.posts.insert(post(7), fanout_due=DUE)
    with pytest.raises(PostIdTaken):
        await stores.posts.insert(post(7, author="mallory"), fanout_due=DUE)
    assert (await stores.posts.get_many([7]))[7].author_id == "alice"


async def test_recent_by_authors_newest_first_below_a_bound(
    stores: Stores, settings: Settings
) -> None:
    for post_id, author in enumerate(["a", "b", "c", "a", "b", "c", "a"], start=1):
        await stores.posts.insert(post(post_id, author), fanout_due=DUE)
    recent = await stores.posts.recent_by_authors(["a", "b"], before_id=7, limit=3)
    assert [p.id for p in recent] == [5, 4, 2]
    everything = await stores.posts.recent_by_authors(["c"], before_id=None, limit=10)
    assert [p.id for p in everything] == [6, 3]
    assert await stores.posts.recent_by_authors([], before_id=None, limit=10) == []


async def test_indexes_serve_author_reads_and_retention(stores: Stores, settings: Settings) -> None:
    database = stores.mongo[settings.namespace]
    indexes = await database["posts"].index_information()
    assert indexes["author_recent"]["key"] == [("author_id", 1), ("_id", -1)]
    retention = settings.retention_days * 86_400
    assert indexes["retention"]["expireAfterSeconds"] == retention


async def test_what_is_attached_to_posts_expires_with_them(
    stores: Stores, settings: Settings
) -> None:
    """Likes, comments, commenters and a post's figures came after the post (or, for
    the figures, carry its creation time): the same retention never removes them
    before it, and removes them after, though a TTL deletion runs no hook."""
    await prepare_schemas(stores, settings)
    database = stores.mongo[settings.namespace]
    retention = settings.retention_days * 86_400
    for collection, field in (
        ("likes", "at"),
        ("comments", "created_at"),
        ("commenters", "last_at"),
        ("post_stats", "posted"),
    ):
        index = (await database[collection].index_information())["retention"]
        assert (index["key"], index["expireAfterSeconds"]) == ([(field, 1)], retention)
    await stores.likes.like(1 << 22, "ann", 1_700_000_000_000)
    [stats] = await database["post_stats"].find({"post_id": 1 << 22}).to_list()
    assert stats["posted"] == post_id_time(1 << 22)


async def test_changing_retention_adjusts_the_ttl_index(stores: Stores, settings: Settings) -> None:
    await stores.posts.ensure_indexes(retention_days=30)
    indexes = await stores.mongo[settings.namespace]["posts"].index_information()
    assert indexes["retention"]["expireAfterSeconds"] == 30 * 86_400


async def test_the_outbox_lists_overdue_posts_until_they_are_fanned_out(
    stores: Stores,
    settings: Settings,
) -> None:
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    await stores.posts.insert(post(1, "a"), fanout_due=early)
    await stores.posts.insert(post(2, "b"), fanout_due=late)
    await stores.posts.insert(post(3, "c"), fanout_due=early)
    assert await stores.posts.overdue_fanouts(early, 10) == [(1, "a"), (3, "c")]
    await stores.posts.mark_fanned_out([1])
    assert await stores.posts.overdue_fanouts(late, 10) == [(3, "c"), (2, "b")]
    await stores.posts.postpone_fanouts([3], datetime(2026, 2, 1, tzinfo=UTC))
    assert await stores.posts.overdue_fanouts(late, 10) == [(2, "b")]
    # The flag is storage detail: a post reads back the same.
    assert (await stores.posts.get_many([2]))[2] == post(2, "b")
