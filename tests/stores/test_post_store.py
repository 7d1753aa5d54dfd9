from datetime import UTC, datetime

import pytest

from tidings.app.services import Services
from tidings.stores.posts import PostDocument, PostIdTaken


def post(post_id: int, author: str = "alice", client: str | None = None) -> PostDocument:
    created = datetime.fromtimestamp(1_790_000_000 + post_id, UTC)
    return PostDocument(post_id, author, f"body {post_id}", created, client)


async def test_inserted_posts_come_back_whole(services: Services) -> None:
    await services.posts.insert(post(1, client="ios"))
    await services.posts.insert(post(2))
    found = await services.posts.get_many([2, 1, 3])
    assert found == {1: post(1, client="ios"), 2: post(2)}


async def test_an_id_is_never_stored_twice(services: Services) -> None:
    await services.posts.insert(post(7))
    with pytest.raises(PostIdTaken):
        await services.posts.insert(post(7, author="mallory"))
    assert (await services.posts.get_many([7]))[7].author_id == "alice"


async def test_recent_by_authors_newest_first_below_a_bound(services: Services) -> None:
    for post_id, author in enumerate(["a", "b", "c", "a", "b", "c", "a"], start=1):
        await services.posts.insert(post(post_id, author))
    recent = await services.posts.recent_by_authors(["a", "b"], before_id=7, limit=3)
    assert [p.id for p in recent] == [5, 4, 2]
    everything = await services.posts.recent_by_authors(["c"], before_id=None, limit=10)
    assert [p.id for p in everything] == [6, 3]
    assert await services.posts.recent_by_authors([], before_id=None, limit=10) == []


async def test_indexes_serve_author_reads_and_retention(services: Services) -> None:
    database = services.mongo[services.settings.namespace]
    indexes = await database["posts"].index_information()
    assert indexes["author_recent"]["key"] == [("author_id", 1), ("_id", -1)]
    retention = services.settings.retention_days * 86_400
    assert indexes["retention"]["expireAfterSeconds"] == retention


async def test_changing_retention_adjusts_the_ttl_index(services: Services) -> None:
    await services.posts.ensure_indexes(retention_days=30)
    indexes = await services.mongo[services.settings.namespace]["posts"].index_information()
    assert indexes["retention"]["expireAfterSeconds"] == 30 * 86_400
