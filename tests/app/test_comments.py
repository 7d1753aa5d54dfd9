"""Comments: the post's text rules, idempotent retries, private like the post,
hidden between people who blocked one another, counted exactly. On both graph
stores: who sees what is the graph's answer."""

import asyncio
from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import DELETE, REMOVE, befriend, have_read, post, timeline_ids
from tests.conftest import eventually
from tests.graphs import ON_BOTH_GRAPHS
from tests.spies import record_calls
from tidings.stores.comments import COMMENTS, CommentStore
from tidings.stores.counters import PostStatsStore
from tidings.stores.cypher_graph import CypherGraph
from tidings.stores.likes import LikeStore

pytestmark = ON_BOTH_GRAPHS

ADD = """mutation($post: ID!, $body: String!, $key: String) {
  addComment(input: {postId: $post, body: $body, idempotencyKey: $key}) {
    comment { id body author { id } post { id } } } }"""
REMOVE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) { deletedCommentId } }"
THREAD = """query($id: ID!, $first: Int, $after: String) { post(id: $id) {
  commentCount comments(first: $first, after: $after) {
    edges { cursor node { id body author { id } } } pageInfo { hasNextPage endCursor } } } }"""
BLOCK = "mutation($id: ID!) { blockUser(userId: $id) { id } }"


@pytest.fixture
def overrides() -> dict[str, Any]:
    # Many comments at once: past the shedding bound of one API process.
    return {"max_requests_in_flight": 512, "comment_rate": 1_000}


async def comment(api: Api, user: str, post_id: str, body: str) -> str:
    data = await api.data(user, ADD, {"post": post_id, "body": body})
    comment_id: str = data["addComment"]["comment"]["id"]
    return comment_id


async def thread(api: Api, user: str, post_id: str, first: int = 20) -> list[str]:
    data = await api.data(user, THREAD, {"id": post_id, "first": first})
    return [edge["node"]["body"] for edge in data["post"]["comments"]["edges"]]


async def test_a_thread_is_oldest_first_and_pages_stably_while_it_grows(api: Api) -> None:
    await befriend(api, "ann", "bob")
    post_id = (await post(api, "ann", "talk to me"))["id"]
    added = await api.data("bob", ADD, {"post": post_id, "body": "first!"})
    assert added["addComment"]["comment"]["author"] == {"id": "bob"}
    assert added["addComment"]["comment"]["post"] == {"id": post_id}
    for n in range(2, 5):
        await comment(api, "ann" if n % 2 else "bob", post_id, f"comment {n}")
    page = (await api.data("ann", THREAD, {"id": post_id, "first": 2}))["post"]
    assert page["commentCount"] == 4
    assert [e["node"]["body"] for e in page["comments"]["edges"]] == ["first!", "comment 2"]
    assert page["comments"]["pageInfo"]["hasNextPage"] is True
    await comment(api, "bob", post_id, "comment 5")  # arrives while she reads
    after = page["comments"]["pageInfo"]["endCursor"]
    rest = await api.data("ann", THREAD, {"id": post_id, "first": 10, "after": after})
    bodies = [e["node"]["body"] for e in rest["post"]["comments"]["edges"]]
    assert bodies == ["comment 3", "comment 4", "comment 5"]
    assert rest["post"]["comments"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("body", ["", "   ", "\u200b", "x" * 1_025, "é" * 513])
async def test_a_comment_follows_a_posts_text_rules_and_nothing_is_stored(
    api: Api, body: str
) -> None:
    post_id = (await post(api, "ann", "rules"))["id"]
    assert await api.error_code("ann", ADD, {"post": post_id, "body": body}) == "BAD_USER_INPUT"
    database = api.stores.mongo[api.settings.namespace]
    assert await database[COMMENTS].count_documents({}) == 0


async def test_a_retry_with_the_same_key_returns_the_first_comment(api: Api) -> None:
    post_id = (await post(api, "ann", "retry"))["id"]
    variables = {"post": post_id, "body": "once", "key": "k-1"}
    first, again = [await api.data("ann", ADD, variables) for _ in range(2)]
    assert first["addComment"]["comment"]["id"] == again["addComment"]["comment"]["id"]
    raced = await asyncio.gather(
        *(api.data("ann", ADD, {**variables, "key": "k-2"}) for _ in range(10))
    )
    assert len({body["addComment"]["comment"]["id"] for body in raced}) == 1
    assert (await api.data("ann", THREAD, {"id": post_id}))["post"]["commentCount"] == 2


async def test_only_who_sees_the_post_may_comment_or_read_comments(api: Api) -> None:
    await befriend(api, "ann", "bob")
    post_id = (await post(api, "ann", "friends only"))["id"]
    await comment(api, "bob", post_id, "hello")
    missing = str(int(post_id) + 1)
    answers = []
    for target in (post_id, missing):
        body = await api.call("xena", ADD, {"post": target, "body": "let me in"})
        [error] = body["errors"]
        answers.append((error["extensions"]["code"], error["message"]))
    assert answers[0] == answers[1] == ("NOT_FOUND", "There is no post with this id.")
    await api.data("ann", REMOVE, {"id": "bob"})
    assert (await api.data("bob", THREAD, {"id": post_id}))["post"] is None
    body = await api.call("bob", ADD, {"post": post_id, "body": "still here?"})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_comments_between_people_who_blocked_each_other_are_hidden(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy")
    post_id = (await post(api, "ann", "a crowd"))["id"]
    for user in ("bob", "cy", "bob", "cy"):
        await comment(api, user, post_id, f"from {user}")
    await api.data("bob", BLOCK, {"id": "cy"})
    assert await thread(api, "bob", post_id) == ["from bob", "from bob"]
    assert await thread(api, "cy", post_id) == ["from cy", "from cy"]  # the other way too
    assert len(await thread(api, "ann", post_id)) == 4
    # Counts stay the post's totals; paging over hidden ones neither repeats nor stops.
    data = await api.data("bob", THREAD, {"id": post_id, "first": 1})
    assert data["post"]["commentCount"] == 4
    after = data["post"]["comments"]["pageInfo"]["endCursor"]
    rest = await api.data("bob", THREAD, {"id": post_id, "first": 5, "after": after})
    assert [e["node"]["body"] for e in rest["post"]["comments"]["edges"]] == ["from bob"]


async def test_a_comment_is_deleted_by_its_author_or_the_posts_and_nobody_else(
    api: Api,
) -> None:
    await befriend(api, "ann", "bob", "cy")
    post_id = (await post(api, "ann", "moderated"))["id"]
    by_bob = await comment(api, "bob", post_id, "mine")
    by_cy = await comment(api, "cy", post_id, "hers to delete")
    never = str(int(by_cy) + 1)
    answers = []
    for target in (by_bob, never):
        body = await api.call("cy", REMOVE_COMMENT, {"id": target})
        [error] = body["errors"]
        answers.append((error["extensions"]["code"], error["message"]))
    assert answers[0] == answers[1] == ("NOT_FOUND", "There is no comment with this id.")
    deleted = await api.data("bob", REMOVE_COMMENT, {"id": by_bob})
    assert deleted == {"deleteComment": {"deletedCommentId": by_bob}}
    await api.data("ann", REMOVE_COMMENT, {"id": by_cy})  # the post's author
    assert (await api.data("ann", THREAD, {"id": post_id}))["post"]["commentCount"] == 0
    assert await thread(api, "ann", post_id) == []


async def test_deleting_a_post_deletes_its_comments(api: Api) -> None:
    await befriend(api, "ann", "bob")
    post_id = (await post(api, "ann", "short-lived"))["id"]
    await comment(api, "bob", post_id, "bye")
    await api.data("ann", DELETE, {"id": post_id})
    database = api.stores.mongo[api.settings.namespace]
    assert await database[COMMENTS].count_documents({"post_id": int(post_id)}) == 0
    assert (await api.stores.stats.of([int(post_id)]))[int(post_id)].comments == 0


async def test_counts_are_exact_under_concurrency(api: Api) -> None:
    readers = [f"fan{i:03d}" for i in range(60)]
    await api.stores.graph.befriend_many("star", readers)
    post_id = (await post(api, "star", "say something"))["id"]
    await have_read(api, readers, post_id)
    await asyncio.gather(*(comment(api, user, post_id, "hi") for user in readers))
    assert (await api.data("star", THREAD, {"id": post_id}))["post"]["commentCount"] == 60
    assert await api.stores.comments.recount() == {}


async def test_a_page_of_20_costs_one_count_query(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [(await post(api, "ann", f"post {i}"))["id"] for i in range(20)]
    await comment(api, "ann", ids[0], "one")

    async def all_there() -> bool:
        return len(await timeline_ids(api, "ann", 20)) == 20

    await eventually(all_there)
    calls = record_calls(monkeypatch, (PostStatsStore, "of"))
    data = await api.data("ann", "{ timeline(first: 20) { edges { node { commentCount } } } }")
    assert sum(edge["node"]["commentCount"] for edge in data["timeline"]["edges"]) == 1
    assert calls == ["of"]


SOCIAL_PAGE = """{ timeline(first: 20) { edges { node { id likeCount viewerHasLiked commentCount
  comments(first: 2) { edges { cursor node { id body author { id } } }
    pageInfo { hasNextPage endCursor } } } } } }"""


async def test_a_social_page_costs_one_call_per_step_and_agrees_with_each_thread(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await befriend(api, "bob", "ann", "cy", "dee")
    ids = [(await post(api, "bob", f"post {i}"))["id"] for i in range(20)]
    # None, one, two, three and seven comments; the first one deleted on one post,
    # and on another the first two by someone ann then blocks (the page asks again).
    for n, post_id in zip((0, 1, 2, 3, 7), ids, strict=False):
        for i in range(n):
            await comment(api, "cy" if i % 2 else "bob", post_id, f"{post_id}-{i}")
    gone = await comment(api, "cy", ids[5], "deleted soon")
    await comment(api, "bob", ids[5], "stays")
    await api.data("cy", REMOVE_COMMENT, {"id": gone})
    blocked = ids[6]
    for body in ("x1", "x2", "kept 1", "kept 2", "kept 3"):
        await comment(api, "dee" if body.startswith("x") else "bob", blocked, body)

    async def all_there() -> bool:
        return len(await timeline_ids(api, "ann", 20)) == 20

    await eventually(all_there)
    await api.data("ann", BLOCK, {"id": "dee"})
    calls = record_calls(
        monkeypatch,
        (PostStatsStore, "of"),
        (CommentStore, "thread"),
        (LikeStore, "liked_by"),
        (CypherGraph, "blocked_either_way"),
    )
    data = await api.data("ann", SOCIAL_PAGE)
    # Counts and first comments in one query; the viewer's likes; blocks.
    assert sorted(calls) == ["blocked_either_way", "liked_by", "of"]
    for edge in data["timeline"]["edges"]:
        node = edge["node"]
        expected = await api.data("ann", THREAD, {"id": node["id"], "first": 2})
        assert node["comments"] == expected["post"]["comments"], node["id"]
    by_id = {edge["node"]["id"]: edge["node"] for edge in data["timeline"]["edges"]}
    assert [e["node"]["body"] for e in by_id[blocked]["comments"]["edges"]] == [
        "kept 1",
        "kept 2",
    ]
    assert [e["node"]["body"] for e in by_id[ids[5]]["comments"]["edges"]] == ["stays"]
