"""Friends only: who may see a post, a friend list, a request, through every read.

One author, ann, and one viewer for each way of standing with her: herself, a
friend, someone whose request she has not answered, an ex-friend, someone she
blocked, a friend who muted her, and a stranger.
"""

import time
from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import (
    ADD,
    DELETE,
    REMOVE,
    all_pages,
    befriend,
    cached,
    post,
    timeline_ids,
    wait_until_cached,
)
from tests.graphs import ON_BOTH_GRAPHS

CAP = 2  # so a timeline of ann's four posts reaches past the cache into history
VIEWERS = ["ann", "fred", "pat", "eve", "bo", "mo", "sam"]
MAY_READ = {"ann", "fred", "mo"}  # a mute hides her from mo's timeline, not from a read by id
IN_TIMELINE = {"ann", "fred"}

BLOCK = "mutation($id: ID!) { blockUser(userId: $id) { id friendship } }"
UNBLOCK = "mutation($id: ID!) { unblockUser(userId: $id) { id friendship } }"
MUTE = "mutation($id: ID!) { muteUser(userId: $id) { id friendship } }"
UNMUTE = "mutation($id: ID!) { unmuteUser(userId: $id) { id friendship } }"
ABOUT = """query($id: ID!) { user(id: $id) {
  friendship friends { edges { node { id } } }
  friendRequests { edges { node { id } } } sentFriendRequests { edges { node { id } } }
  blocked { edges { node { id } } } muted { edges { node { id } } } } }"""

# The graph is what these tests are about: they run on FalkorDB and on Neo4j.
pytestmark = ON_BOTH_GRAPHS


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {"timeline_max": CAP}


@pytest.fixture
async def ann_posts(api: Api) -> list[str]:
    """Ann's four posts, made while fred, eve, bo and mo were all her friends; then
    pat asks her, eve unfriends her, she blocks bo and mo mutes her."""
    await befriend(api, "ann", "fred", "eve", "bo", "mo")
    for viewer in VIEWERS:
        await timeline_ids(api, viewer)  # active readers: fan-out writes to them
    posts = [(await post(api, "ann", f"ann {i}"))["id"] for i in range(4)]
    await wait_until_cached(api, "eve", posts[-1])
    await wait_until_cached(api, "mo", posts[-1])
    await api.data("pat", ADD, {"id": "ann"})
    await api.data("eve", REMOVE, {"id": "ann"})
    await api.data("ann", BLOCK, {"id": "bo"})
    await api.data("mo", MUTE, {"id": "ann"})
    return posts


async def test_posts_by_id_only_for_the_author_and_her_friends(
    api: Api, ann_posts: list[str]
) -> None:
    many = "query($ids: [ID!]!) { posts(ids: $ids) { id } }"
    one = "query($id: ID!) { post(id: $id) { id } }"
    for viewer in VIEWERS:
        expected = ann_posts if viewer in MAY_READ else [None] * len(ann_posts)
        found = (await api.data(viewer, many, {"ids": ann_posts}))["posts"]
        assert [p and p["id"] for p in found] == expected, viewer
        single = (await api.data(viewer, one, {"id": ann_posts[0]}))["post"]
        assert (single is not None) == (viewer in MAY_READ), viewer


async def test_timelines_past_the_cache_only_for_her_and_unmuting_friends(
    api: Api, ann_posts: list[str]
) -> None:
    newest_first = list(reversed(ann_posts))
    for viewer in VIEWERS:
        expected = newest_first if viewer in IN_TIMELINE else []
        for first in (1, 3):  # pages from the cache, then history from MongoDB
            assert await all_pages(api, viewer, first) == expected, (viewer, first)
    # The ended friendship and the mute took her posts out of their stored timelines.
    for viewer in ("eve", "bo", "mo"):
        assert not {int(i) for i in ann_posts} & set(await cached(api, viewer)), viewer


async def test_a_fan_out_racing_the_end_of_a_friendship_is_filtered_at_read(
    api: Api, ann_posts: list[str]
) -> None:
    # As if a worker had read her friend list just before it changed.
    for viewer in ("eve", "bo", "mo", "sam"):
        await api.timelines.build(viewer, [int(i) for i in ann_posts], time.time())
        assert await all_pages(api, viewer, 3) == [], viewer


async def test_friend_lists_only_for_the_user_and_friends(api: Api, ann_posts: list[str]) -> None:
    for viewer in VIEWERS:
        about = (await api.data(viewer, ABOUT, {"id": "ann"}))["user"]
        if viewer in MAY_READ:
            names = {edge["node"]["id"] for edge in about["friends"]["edges"]}
            assert names == {"fred", "mo"}, viewer
        else:
            assert about["friends"] is None, viewer
        if viewer != "ann":  # her requests, blocks and mutes are hers alone
            lists = ("friendRequests", "sentFriendRequests", "blocked", "muted")
            assert all(about[name] is None for name in lists), viewer


async def test_nobody_but_the_author_deletes_and_nobody_learns_it_exists(
    api: Api, ann_posts: list[str]
) -> None:
    for viewer in VIEWERS[1:]:
        assert await api.error_code(viewer, DELETE, {"id": ann_posts[0]}) == "NOT_FOUND"
        assert await api.error_code(viewer, DELETE, {"id": "12345"}) == "NOT_FOUND"
    assert (await api.data("ann", DELETE, {"id": ann_posts[0]}))["deletePost"]
    assert await all_pages(api, "fred", 10) == list(reversed(ann_posts[1:]))


async def test_each_side_sees_the_tie_as_the_contract_says(api: Api, ann_posts: list[str]) -> None:
    async def seen_by(viewer: str, other: str) -> dict[str, Any]:
        about: dict[str, Any] = (await api.data(viewer, ABOUT, {"id": other}))["user"]
        return about

    expected = {
        ("fred", "ann"): "FRIENDS",
        ("pat", "ann"): "REQUEST_SENT",
        ("ann", "pat"): "REQUEST_RECEIVED",
        ("eve", "ann"): "NONE",
        ("ann", "eve"): "NONE",
        ("ann", "bo"): "BLOCKED",
        ("bo", "ann"): "NONE",  # no block oracle
        ("mo", "ann"): "FRIENDS",
        ("sam", "ann"): "NONE",
        ("ann", "ann"): "NONE",
    }
    for (viewer, other), friendship in expected.items():
        assert (await seen_by(viewer, other))["friendship"] == friendship, (viewer, other)

    def ids(connection: dict[str, Any]) -> list[str]:
        return [edge["node"]["id"] for edge in connection["edges"]]

    ann = await seen_by("ann", "ann")
    assert ids(ann["friendRequests"]) == ["pat"]
    assert ids(ann["blocked"]) == ["bo"]
    assert ids(ann["muted"]) == []
    assert ids((await seen_by("pat", "pat"))["sentFriendRequests"]) == ["ann"]
    assert ids((await seen_by("mo", "mo"))["muted"]) == ["ann"]


async def test_a_block_refuses_requests_both_ways_and_unblock_restores_nothing(
    api: Api, ann_posts: list[str]
) -> None:
    assert await api.error_code("bo", ADD, {"id": "ann"}) == "BAD_USER_INPUT"
    assert await api.error_code("ann", ADD, {"id": "bo"}) == "BAD_USER_INPUT"
    requests = (await api.data("ann", ABOUT, {"id": "ann"}))["user"]["friendRequests"]
    assert [edge["node"]["id"] for edge in requests["edges"]] == ["pat"]  # nothing stored
    unblocked = await api.data("ann", UNBLOCK, {"id": "bo"})
    assert unblocked == {"unblockUser": {"id": "bo", "friendship": "NONE"}}
    assert await all_pages(api, "bo", 10) == []
    await befriend(api, "bo", "ann")  # a new friendship, by consent, is possible again
    assert await all_pages(api, "bo", 10) == list(reversed(ann_posts))


async def test_unmuting_brings_new_posts_back(api: Api, ann_posts: list[str]) -> None:
    assert await api.data("mo", UNMUTE, {"id": "ann"}) == {
        "unmuteUser": {"id": "ann", "friendship": "FRIENDS"}
    }
    fresh = (await post(api, "ann", "back again"))["id"]
    await wait_until_cached(api, "mo", fresh)
    assert (await timeline_ids(api, "mo"))[0] == fresh


async def test_a_stranger_enumerating_ids_around_a_post_sees_only_nulls(
    api: Api, ann_posts: list[str]
) -> None:
    real = int(ann_posts[1])
    many = "query($ids: [ID!]!) { posts(ids: $ids) { id } }"
    candidates = [str(real + offset) for offset in range(-500, 500)]
    assert str(real) in candidates
    for start in range(0, len(candidates), 100):
        found = await api.data("sam", many, {"ids": candidates[start : start + 100]})
        assert found["posts"] == [None] * 100
