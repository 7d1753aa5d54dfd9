"""Likes: idempotent, exact under concurrency, private like the post, one batch
step per page. On both graph stores: who may see a post is the graph's answer."""

import asyncio
from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import DELETE, REMOVE, befriend, have_read, post, timeline_ids
from tests.conftest import eventually
from tests.graphs import ON_BOTH_GRAPHS
from tests.spies import record_calls
from tidings.stores.counters import POST_STATS, SHARDS, PostStatsStore
from tidings.stores.likes import LikeStore

pytestmark = ON_BOTH_GRAPHS

LIKE = "mutation($id: ID!) { likePost(postId: $id) { id likeCount viewerHasLiked } }"
UNLIKE = "mutation($id: ID!) { unlikePost(postId: $id) { id likeCount viewerHasLiked } }"
ABOUT = """query($id: ID!, $after: String) { post(id: $id) {
  likeCount viewerHasLiked likers(first: 2, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } } }"""


@pytest.fixture
def overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "rate" in request.node.name:
        return {"like_rate": 2, "like_rate_window_seconds": 60}
    # Hundreds of likes at once: past the shedding bound of one API process.
    return {"max_requests_in_flight": 512}


async def test_liking_is_idempotent_and_likers_come_newest_first(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy", "dee")
    post_id = (await post(api, "ann", "like me"))["id"]
    for user in ("bob", "cy", "dee"):
        liked = await api.data(user, LIKE, {"id": post_id})
        assert liked["likePost"]["viewerHasLiked"] is True
    again = await api.data("bob", LIKE, {"id": post_id})  # twice is one like
    assert again["likePost"] == {"id": post_id, "likeCount": 3, "viewerHasLiked": True}
    first = (await api.data("ann", ABOUT, {"id": post_id}))["post"]
    assert (first["likeCount"], first["viewerHasLiked"]) == (3, False)
    assert [edge["node"]["id"] for edge in first["likers"]["edges"]] == ["dee", "cy"]
    assert first["likers"]["pageInfo"]["hasNextPage"] is True
    after = first["likers"]["pageInfo"]["endCursor"]
    rest = (await api.data("ann", ABOUT, {"id": post_id, "after": after}))["post"]["likers"]
    assert [edge["node"]["id"] for edge in rest["edges"]] == ["bob"]
    assert rest["pageInfo"]["hasNextPage"] is False

    unliked = await api.data("cy", UNLIKE, {"id": post_id})
    assert unliked["unlikePost"] == {"id": post_id, "likeCount": 2, "viewerHasLiked": False}
    never = await api.data("ann", UNLIKE, {"id": post_id})  # never liked: nothing changes
    assert never["unlikePost"]["likeCount"] == 2


async def test_only_who_sees_the_post_may_like_it_or_see_its_likes(api: Api) -> None:
    await befriend(api, "ann", "bob")
    post_id = (await post(api, "ann", "friends only"))["id"]
    await api.data("bob", LIKE, {"id": post_id})
    missing = str(int(post_id) + 1)
    answers = []
    for target in (post_id, missing):
        body = await api.call("xena", LIKE, {"id": target})
        [error] = body["errors"]
        answers.append((error["extensions"]["code"], error["message"]))
    # Exactly what a missing post gets: no count, nothing to tell them apart.
    assert answers[0] == answers[1] == ("NOT_FOUND", "There is no post with this id.")
    # A post that stops being visible takes its likes with it for that viewer.
    await api.data("ann", REMOVE, {"id": "bob"})
    body = await api.call("bob", UNLIKE, {"id": post_id})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await api.data("bob", ABOUT, {"id": post_id}))["post"] is None
    assert (await api.data("ann", ABOUT, {"id": post_id}))["post"]["likeCount"] == 1


async def test_counts_are_exact_under_concurrency(api: Api) -> None:
    readers = [f"fan{i:03d}" for i in range(200)]
    await api.stores.graph.befriend_many("star", readers)
    hot = (await post(api, "star", "hot"))["id"]
    await have_read(api, readers, hot)
    bodies = await asyncio.gather(*(api.call(user, LIKE, {"id": hot}) for user in readers))
    assert all("errors" not in body for body in bodies)
    assert (await api.data("star", ABOUT, {"id": hot}))["post"]["likeCount"] == 200

    once = (await post(api, "star", "one liker"))["id"]
    same = await asyncio.gather(*(api.call("fan000", LIKE, {"id": once}) for _ in range(50)))
    assert all("errors" not in body for body in same)
    assert (await api.data("star", ABOUT, {"id": once}))["post"]["likeCount"] == 1

    # Likes and unlikes racing: the count is always the number of likers.
    raced = (await post(api, "star", "raced"))["id"]
    calls = [
        api.call(user, LIKE if (i + n) % 2 == 0 else UNLIKE, {"id": raced})
        for n in range(3)
        for i, user in enumerate(readers[:40])
    ]
    await asyncio.gather(*calls)
    database = api.stores.mongo[api.settings.namespace]
    likers = await database["likes"].count_documents({"post_id": int(raced)})
    assert (await api.data("star", ABOUT, {"id": raced}))["post"]["likeCount"] == likers
    # And nothing drifted: a recount finds every stored count right.
    assert await api.stores.likes.recount() == {}


async def test_a_hot_posts_count_is_spread_over_many_documents(api: Api) -> None:
    readers = [f"fan{i:03d}" for i in range(64)]
    await api.stores.graph.befriend_many("star", readers)
    hot = (await post(api, "star", "hot"))["id"]
    await have_read(api, readers, hot)
    await asyncio.gather(*(api.call(user, LIKE, {"id": hot}) for user in readers))
    database = api.stores.mongo[api.settings.namespace]
    shards = await database[POST_STATS].count_documents({"post_id": int(hot)})
    assert SHARDS // 2 < shards <= SHARDS
    # A post liked now and then keeps its count on one document: a page reads one.
    calm = (await post(api, "star", "calm"))["id"]
    for user in readers[:5]:
        await api.data(user, LIKE, {"id": calm})
    assert await database[POST_STATS].count_documents({"post_id": int(calm)}) == 1
    assert (await api.data("star", ABOUT, {"id": calm}))["post"]["likeCount"] == 5


async def test_recount_repairs_drift_and_says_so(api: Api) -> None:
    await befriend(api, "ann", "bob")
    post_id = int((await post(api, "ann", "counted"))["id"])
    await api.data("bob", LIKE, {"id": str(post_id)})
    database = api.stores.mongo[api.settings.namespace]
    # A crash between the like and its count, say.
    await database[POST_STATS].update_many({"post_id": post_id}, {"$inc": {"likes": 5}})
    assert await api.stores.likes.recount() == {post_id: (6, 1)}
    assert (await api.stores.stats.of([post_id]))[post_id].likes == 1
    assert await api.stores.likes.recount() == {}


async def test_deleting_a_post_deletes_its_likes(api: Api) -> None:
    await befriend(api, "ann", "bob")
    post_id = (await post(api, "ann", "short-lived"))["id"]
    await api.data("bob", LIKE, {"id": post_id})
    await api.data("ann", DELETE, {"id": post_id})
    database = api.stores.mongo[api.settings.namespace]
    assert await database["likes"].count_documents({"post_id": int(post_id)}) == 0
    assert await database[POST_STATS].count_documents({"post_id": int(post_id)}) == 0


async def test_a_page_of_20_costs_one_query_per_likes_step(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [(await post(api, "ann", f"post {i}"))["id"] for i in range(20)]
    for post_id in ids[:5]:
        await api.data("ann", LIKE, {"id": post_id})

    async def all_there() -> bool:
        return len(await timeline_ids(api, "ann", 20)) == 20

    await eventually(all_there)
    calls = record_calls(monkeypatch, (PostStatsStore, "of"), (LikeStore, "liked_by"))
    data = await api.data(
        "ann", "{ timeline(first: 20) { edges { node { id likeCount viewerHasLiked } } } }"
    )
    nodes = [edge["node"] for edge in data["timeline"]["edges"]]
    assert len(nodes) == 20
    assert sum(node["likeCount"] for node in nodes) == 5
    assert sum(node["viewerHasLiked"] for node in nodes) == 5
    assert sorted(calls) == ["liked_by", "of"]


async def test_liking_too_fast_is_rate_limited(api: Api) -> None:
    await befriend(api, "ann", "bob")
    ids = [(await post(api, "ann", f"p{i}"))["id"] for i in range(3)]
    for post_id in ids[:2]:
        await api.data("bob", LIKE, {"id": post_id})
    body = await api.call("bob", LIKE, {"id": ids[2]})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
