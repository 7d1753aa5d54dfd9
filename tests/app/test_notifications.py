"""Notifications: grouped per post, raised and unread again when someone new acts,
never of one's own action, the viewer's own only, and gone with what they name.
On both graph stores: blocks and friend requests are the graph's."""

import asyncio
from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import ADD, DELETE, REMOVE, befriend, have_read, post
from tests.conftest import eventually
from tests.graphs import ON_BOTH_GRAPHS
from tidings.feed.changed_groups import ChangedGroups, likes_of

pytestmark = ON_BOTH_GRAPHS

LIKE = "mutation($id: ID!) { likePost(postId: $id) { id } }"
UNLIKE = "mutation($id: ID!) { unlikePost(postId: $id) { id } }"
COMMENT = """mutation($id: ID!, $body: String!) {
  addComment(input: {postId: $id, body: $body}) { comment { id } } }"""
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) { deletedCommentId } }"
BLOCK = "mutation($id: ID!) { blockUser(userId: $id) { id } }"
NOTIFICATIONS = """query($first: Int, $after: String) { viewer {
  unreadNotificationCount
  notifications(first: $first, after: $after) {
    edges { cursor node { id kind actorCount read updatedAt actors(first: 3) { id }
      post { id body } comment { id body } } }
    pageInfo { hasNextPage endCursor } } } }"""
MARK = "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) { unreadNotificationCount } }"


async def notifications(api: Api, user: str, first: int = 20) -> list[dict[str, Any]]:
    data = await api.data(user, NOTIFICATIONS, {"first": first})
    return [edge["node"] for edge in data["viewer"]["notifications"]["edges"]]


async def about_posts(api: Api, user: str) -> list[dict[str, Any]]:
    """The user's notifications about posts (befriending, too, notifies)."""
    return [n for n in await notifications(api, user) if n["kind"].startswith("POST_")]


async def settled(api: Api) -> None:
    """The notifier has written every group changed so far (a positive signal,
    not a sleep): nothing waits in line and nothing is claimed."""
    redis = api.stores.redis

    async def idle() -> bool:
        waiting = await redis.zcard(api.keys.changed_groups)
        claimed = await redis.zcard(api.keys.claimed_groups)
        return bool(waiting == 0 and claimed == 0)

    await eventually(idle)


async def test_likes_of_a_post_are_one_notification_newest_first(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy", "dee")
    post_id = (await post(api, "ann", "like me"))["id"]
    await api.data("ann", LIKE, {"id": post_id})  # one's own like tells nobody
    for user in ("bob", "cy", "dee"):
        await api.data(user, LIKE, {"id": post_id})
    await settled(api)
    [liked] = await about_posts(api, "ann")
    assert liked["kind"] == "POST_LIKED"
    assert liked["actorCount"] == 3
    assert [actor["id"] for actor in liked["actors"]] == ["dee", "cy", "bob"]
    assert liked["post"] == {"id": post_id, "body": "like me"}
    assert liked["read"] is False
    for user in ("bob", "cy", "dee"):
        assert await about_posts(api, user) == []

    # Read, then someone new likes it: unread again, and on top of the others.
    await api.data("ann", MARK, {"ids": [liked["id"]]})
    other = (await post(api, "ann", "second"))["id"]
    await api.data("bob", COMMENT, {"id": other, "body": "hello"})
    await settled(api)
    before = await about_posts(api, "ann")
    assert [n["kind"] for n in before] == ["POST_COMMENTED", "POST_LIKED"]
    await api.data("eve", ADD, {"id": "ann"})
    await api.data("ann", ADD, {"id": "eve"})
    await api.data("eve", LIKE, {"id": post_id})
    await settled(api)
    after = await notifications(api, "ann")
    assert [n["kind"] for n in after][:2] == ["POST_LIKED", "FRIEND_REQUEST_RECEIVED"]
    assert (after[0]["read"], after[0]["actorCount"]) == (False, 4)
    assert after[0]["actors"][0]["id"] == "eve"

    # An unlike shrinks it without raising it; the last unlike removes it.
    for user in ("eve", "dee", "cy"):
        await api.data(user, UNLIKE, {"id": post_id})
    await settled(api)
    [still] = [n for n in await about_posts(api, "ann") if n["kind"] == "POST_LIKED"]
    assert (still["actorCount"], [a["id"] for a in still["actors"]]) == (1, ["bob"])
    await api.data("bob", UNLIKE, {"id": post_id})
    await settled(api)
    assert "POST_LIKED" not in [n["kind"] for n in await about_posts(api, "ann")]


async def test_comments_name_the_newest_and_follow_deletes(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy")
    post_id = (await post(api, "ann", "talk to me"))["id"]
    await api.data("ann", COMMENT, {"id": post_id, "body": "my own"})
    first = await api.data("bob", COMMENT, {"id": post_id, "body": "first"})
    second = await api.data("bob", COMMENT, {"id": post_id, "body": "again"})
    third = await api.data("cy", COMMENT, {"id": post_id, "body": "me too"})
    await settled(api)
    [commented] = await about_posts(api, "ann")
    assert commented["kind"] == "POST_COMMENTED"
    # Distinct people, the author not among them.
    assert commented["actorCount"] == 2
    assert [a["id"] for a in commented["actors"]] == ["cy", "bob"]
    assert commented["comment"]["body"] == "me too"

    # Deleting the comment it names names the one before; cy is gone from it.
    await api.data("cy", DELETE_COMMENT, {"id": third["addComment"]["comment"]["id"]})
    await settled(api)
    [commented] = await about_posts(api, "ann")
    assert commented["comment"]["body"] == "again"
    assert (commented["actorCount"], [a["id"] for a in commented["actors"]]) == (1, ["bob"])
    for gone in (first, second):  # the post's author may delete them too
        await api.data("ann", DELETE_COMMENT, {"id": gone["addComment"]["comment"]["id"]})
    await settled(api)
    assert await about_posts(api, "ann") == []


async def test_deleting_a_post_deletes_its_notifications(api: Api) -> None:
    await befriend(api, "ann", "bob")
    post_id = (await post(api, "ann", "short-lived"))["id"]
    await api.data("bob", LIKE, {"id": post_id})
    await api.data("bob", COMMENT, {"id": post_id, "body": "nice"})
    await settled(api)
    kinds = {n["kind"] for n in await about_posts(api, "ann")}
    assert kinds == {"POST_LIKED", "POST_COMMENTED"}
    await api.data("ann", DELETE, {"id": post_id})
    assert await about_posts(api, "ann") == []
    # A group the notifier writes after the delete finds the post gone, and stays gone.
    await ChangedGroups(api.stores.redis, api.keys).mark(likes_of(int(post_id)))
    await settled(api)
    assert await about_posts(api, "ann") == []


async def test_friend_requests_and_acceptances_notify_the_other_side(api: Api) -> None:
    await api.data("bob", ADD, {"id": "ann"})
    [received] = await notifications(api, "ann")
    assert received["kind"] == "FRIEND_REQUEST_RECEIVED"
    assert (received["actorCount"], received["actors"]) == (1, [{"id": "bob"}])
    assert (received["post"], received["comment"]) == (None, None)
    await api.data("ann", ADD, {"id": "bob"})
    [accepted] = await notifications(api, "bob")
    assert accepted["kind"] == "FRIEND_REQUEST_ACCEPTED"
    assert accepted["actors"] == [{"id": "ann"}]

    # A request withdrawn is no longer news.
    await api.data("cy", ADD, {"id": "ann"})
    assert len(await notifications(api, "ann")) == 2
    await api.data("cy", REMOVE, {"id": "ann"})
    assert [n["kind"] for n in await notifications(api, "ann")] == ["FRIEND_REQUEST_RECEIVED"]


async def test_marking_read_and_paging(api: Api) -> None:
    for user in ("bob", "cy", "dee"):
        await api.data(user, ADD, {"id": "ann"})
    data = await api.data("ann", NOTIFICATIONS, {"first": 2})
    connection = data["viewer"]["notifications"]
    assert data["viewer"]["unreadNotificationCount"] == 3
    assert [e["node"]["actors"][0]["id"] for e in connection["edges"]] == ["dee", "cy"]
    assert connection["pageInfo"]["hasNextPage"] is True
    rest = await api.data(
        "ann", NOTIFICATIONS, {"first": 2, "after": connection["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["actors"][0]["id"] for e in rest["viewer"]["notifications"]["edges"]] == [
        "bob"
    ]

    # Someone else's ids, or ids that match nothing, mark nothing.
    await api.data("bob", ADD, {"id": "cy"})
    [of_cy] = await notifications(api, "cy")
    assert of_cy["id"] == "cy/Rbob"  # ann has one from bob too: ids differ
    marked = await api.data("ann", MARK, {"ids": [of_cy["id"], "ann/Rnobody"]})
    assert marked["markNotificationsRead"]["unreadNotificationCount"] == 3
    assert (await notifications(api, "cy"))[0]["read"] is False
    first_id = connection["edges"][0]["node"]["id"]
    marked = await api.data("ann", MARK, {"ids": [first_id]})
    assert marked["markNotificationsRead"]["unreadNotificationCount"] == 2
    marked = await api.data("ann", MARK, {})  # all of them
    assert marked["markNotificationsRead"]["unreadNotificationCount"] == 0

    bad_ids = (["not an id"], ["ann/Rx y"], ["ann/R" + "x" * 100], ["ann/Zbob"], ["Rbob"])
    for bad in (*bad_ids, [f"ann/R{i}" for i in range(101)]):
        assert await api.error_code("ann", MARK, {"ids": bad}) == "BAD_USER_INPUT"


async def test_notifications_are_the_viewers_alone(api: Api) -> None:
    await api.data("bob", ADD, {"id": "ann"})
    query = """query { user(id: "ann") { notifications { edges { node { id } } }
      unreadNotificationCount } }"""
    assert (await api.data("bob", query))["user"] == {
        "notifications": None,
        "unreadNotificationCount": None,
    }
    # A cursor of another list is refused.
    friends = await api.data(
        "ann", 'query { user(id: "ann") { friendRequests { edges { cursor } } } }'
    )
    cursor = friends["user"]["friendRequests"]["edges"][0]["cursor"]
    code = await api.error_code("ann", NOTIFICATIONS, {"first": 1, "after": cursor})
    assert code == "BAD_USER_INPUT"


async def test_a_blocked_commenter_is_left_out_of_what_the_author_sees(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy")
    post_id = (await post(api, "ann", "quiet"))["id"]
    await api.data("cy", COMMENT, {"id": post_id, "body": "from cy"})
    await api.data("bob", COMMENT, {"id": post_id, "body": "from bob"})
    await settled(api)
    await api.data("ann", BLOCK, {"id": "bob"})
    [commented] = await about_posts(api, "ann")
    assert [a["id"] for a in commented["actors"]] == ["cy"]
    assert commented["comment"] is None  # bob's, and bob is blocked


@pytest.fixture
def overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "rate" in request.node.name:
        return {"mark_read_rate": 2, "mark_read_rate_window_seconds": 60}
    return {"max_requests_in_flight": 512}


async def test_marking_read_is_rate_limited(api: Api) -> None:
    for _ in range(2):
        await api.data("ann", MARK, {})
    body = await api.call("ann", MARK, {})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] > 0


async def test_a_hot_posts_likes_are_coalesced_and_counted_exactly(api: Api) -> None:
    readers = [f"fan{i:03d}" for i in range(120)]
    await api.stores.graph.befriend_many("star", readers)
    hot = (await post(api, "star", "hot"))["id"]
    await have_read(api, readers, hot)
    # What the notifier tells the author's subscriptions, one message per write.
    pubsub = api.stores.redis.pubsub()
    await pubsub.subscribe(api.keys.notification_channel("star"))
    try:
        bodies = await asyncio.gather(*(api.call(user, LIKE, {"id": hot}) for user in readers))
        assert all("errors" not in body for body in bodies)
        await settled(api)
        writes = 0
        # Everything published has arrived once nothing more comes for half a second
        # (the notifier is idle: `settled` saw nothing waiting or claimed).
        while (message := await pubsub.get_message(timeout=0.5)) is not None:
            writes += message["type"] == "message"
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    # Written in passes, each covering every like since the last: fewer writes than
    # likes (and at least one).
    assert 1 <= writes < len(readers)
    [liked] = await about_posts(api, "star")
    assert liked["actorCount"] == 120
    assert len(liked["actors"]) == 3
    # One notification document, however many likes.
    database = api.stores.mongo[api.settings.namespace]
    assert await database["notifications"].count_documents({"recipient": "star"}) == 1
