"""End to end through the ASGI app and a real worker, on real servers."""

import asyncio
from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import (
    REMOVE,
    TIMELINE,
    befriend,
    post,
    timeline_ids,
    wait_for_post,
    wait_until_cached,
)
from tests.graphs import ON_BOTH_GRAPHS
from tidings.stores.graph import FriendGraph
from tidings.stores.posts import PostStore

ADD_WITH_FRIENDSHIP = "mutation($id: ID!) { addFriend(userId: $id) { id friendCount friendship } }"

BOBS_COUNT = '{ user(id: "bob") { friendCount } }'

# The graph is what these tests are about: they run on FalkorDB and on Neo4j.
pytestmark = ON_BOTH_GRAPHS


async def test_a_friends_post_reaches_my_timeline(api: Api) -> None:
    asked = await api.data("alice", ADD_WITH_FRIENDSHIP, {"id": "bob"})
    assert asked == {"addFriend": {"id": "bob", "friendCount": 0, "friendship": "REQUEST_SENT"}}
    accepted = await api.data("bob", ADD_WITH_FRIENDSHIP, {"id": "alice"})
    assert accepted == {"addFriend": {"id": "alice", "friendCount": 1, "friendship": "FRIENDS"}}

    created = await post(api, "bob", "hello, alice ✨", client="test-suite")
    assert created["body"] == "hello, alice ✨"
    assert created["author"] == {"id": "bob"}
    assert created["client"] == "test-suite"
    assert created["createdAt"].endswith("+00:00")
    await wait_for_post(api, "alice", created["id"])

    data = await api.data("alice", TIMELINE, {"first": 10})
    [edge] = data["timeline"]["edges"]
    assert edge["node"] == {
        "id": created["id"],
        "body": "hello, alice ✨",
        "author": {"id": "bob", "friendCount": 1},
        "createdAt": created["createdAt"],
        "client": "test-suite",
    }
    assert data["timeline"]["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": edge["cursor"],
        "endCursor": edge["cursor"],
    }
    # The author sees it at home too; a stranger does not.
    assert await timeline_ids(api, "bob") == [created["id"]]
    assert await timeline_ids(api, "carol") == []


async def test_paging_while_posts_arrive_never_repeats_or_skips(api: Api) -> None:
    await befriend(api, "alice", "bob")
    originals = [(await post(api, "bob", f"post {i}"))["id"] for i in range(23)]
    await wait_for_post(api, "alice", originals[-1])

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = await api.data("alice", TIMELINE, {"first": 5, "after": after})
        connection = data["timeline"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        pages += 1
        # Newer posts land at the head while we page towards the tail.
        await post(api, "bob", f"interloper {pages}")
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == list(reversed(originals))
    assert pages == 5


async def test_unfriending_stops_new_posts(api: Api) -> None:
    await befriend(api, "alice", "bob")
    before = await post(api, "bob", "while friends")
    await wait_for_post(api, "alice", before["id"])
    # Read (and so kept by the process for a few seconds) just before the change:
    # the change must not answer with it.
    assert await api.data("alice", BOBS_COUNT) == {"user": {"friendCount": 1}}
    removed = await api.data("alice", REMOVE, {"id": "bob"})
    assert removed == {"removeFriend": {"id": "bob", "friendCount": 0}}
    assert await api.data("alice", BOBS_COUNT) == {"user": {"friendCount": 0}}
    after = await post(api, "bob", "after the split")
    await wait_for_post(api, "bob", after["id"])
    assert after["id"] not in await timeline_ids(api, "alice")
    # Removing again is harmless.
    assert (await api.data("alice", REMOVE, {"id": "bob"}))["removeFriend"]["id"] == "bob"


async def test_viewer_user_post_and_posts(api: Api) -> None:
    for friend in ("bob", "carol", "dave"):
        await befriend(api, "alice", friend)
    data = await api.data(
        "alice",
        """{ viewer { id friendCount friends(first: 2) {
               edges { node { id friendCount } } pageInfo { hasNextPage endCursor } } } }""",
    )
    viewer = data["viewer"]
    assert (viewer["id"], viewer["friendCount"]) == ("alice", 3)
    assert [e["node"] for e in viewer["friends"]["edges"]] == [
        {"id": "bob", "friendCount": 1},
        {"id": "carol", "friendCount": 1},
    ]
    assert viewer["friends"]["pageInfo"]["hasNextPage"] is True
    rest = await api.data(
        "alice",
        "query($after: String) { viewer { friends(after: $after) { edges { node { id } } "
        "pageInfo { hasNextPage } } } }",
        {"after": viewer["friends"]["pageInfo"]["endCursor"]},
    )
    assert rest["viewer"]["friends"] == {
        "edges": [{"node": {"id": "dave"}}],
        "pageInfo": {"hasNextPage": False},
    }

    first = await post(api, "bob", "one")
    second = await post(api, "carol", "two")
    data = await api.data(
        "alice",
        "query($ids: [ID!]!, $one: ID!) { posts(ids: $ids) { id body author { id } } "
        'post(id: $one) { body } missing: post(id: "1") { id } '
        'user(id: "dave") { id friendCount } ghost: user(id: "nobody") { id } }',
        {"ids": [second["id"], "12345", first["id"]], "one": first["id"]},
    )
    assert data == {
        "posts": [
            {"id": second["id"], "body": "two", "author": {"id": "carol"}},
            None,
            {"id": first["id"], "body": "one", "author": {"id": "bob"}},
        ],
        "post": {"body": "one"},
        "missing": None,
        "user": {"id": "dave", "friendCount": 1},
        # Every well-formed id answers alike: nobody learns who was ever seen.
        "ghost": {"id": "nobody"},
    }


async def test_a_page_costs_one_post_query_and_one_graph_query_then_none_warm(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for friend in ("bob", "carol"):
        await befriend(api, "alice", friend)
    await timeline_ids(api, "alice")
    ids = [(await post(api, author, "x"))["id"] for author in ["bob", "carol"] * 10]
    # Watched in Redis, not through the API, so its post cache stays cold.
    await wait_until_cached(api, "alice", ids[-1])

    post_batches: list[int] = []
    graph_batches: list[int] = []
    real_get_many = PostStore.get_many

    async def counting_get_many(self: PostStore, post_ids: Any) -> Any:
        post_batches.append(len(post_ids))
        return await real_get_many(self, post_ids)

    monkeypatch.setattr(PostStore, "get_many", counting_get_many)
    graph: Any = api.stores.graph
    real_summaries = type(graph).user_summaries

    async def counting_summaries(self: FriendGraph, user_ids: Any) -> Any:
        graph_batches.append(len(user_ids))
        return await real_summaries(self, user_ids)

    monkeypatch.setattr(type(graph), "user_summaries", counting_summaries)
    data = await api.data("alice", TIMELINE, {"first": 20})
    assert len(data["timeline"]["edges"]) == 20
    assert post_batches == [20]
    assert graph_batches == [2]
    again = await api.data("alice", TIMELINE, {"first": 20})
    assert again == data
    assert post_batches == [20]  # every post from the process's cache


IDEMPOTENT = """mutation($body: String!, $key: String) {
  createPost(input: {body: $body, idempotencyKey: $key}) { post { id body } } }"""


async def test_a_retry_with_the_same_key_returns_the_first_post_and_stores_nothing(
    api: Api,
) -> None:
    first = await api.data("alice", IDEMPOTENT, {"body": "once", "key": "k-1"})
    again = await api.data("alice", IDEMPOTENT, {"body": "once", "key": "k-1"})
    assert again == first
    raced = await asyncio.gather(
        *(api.data("alice", IDEMPOTENT, {"body": "race", "key": "k-2"}) for _ in range(5))
    )
    assert len({data["createPost"]["post"]["id"] for data in raced}) == 1
    other = await api.data("bob", IDEMPOTENT, {"body": "mine", "key": "k-1"})  # keys are per author
    assert other["createPost"]["post"]["id"] != first["createPost"]["post"]["id"]
    posts = api.stores.mongo[api.settings.namespace]["posts"]
    assert await posts.count_documents({}) == 3
    bad = await api.error_code("alice", IDEMPOTENT, {"body": "x", "key": "é" * 3})
    assert bad == "BAD_USER_INPUT"
