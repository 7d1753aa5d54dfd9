"""Hostile input and abuse: rejected before it costs anything, with a clear code."""

from typing import Any

import pytest

from tests.app.conftest import Api
from tidings.stores.graph import Relation

CREATE = 'mutation { createPost(input: {body: "again"}) { post { id } } }'


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {
        "post_rate": 3,
        "post_rate_window_seconds": 60,
        "friend_rate": 4,
        "block_rate": 2,
        "delete_rate": 1,
        "max_pending_friend_requests": 2,
        "query_max_aliases": 5,
        # Read below, to see which arguments the schema offers.
        "introspection": True,
    }


async def test_posting_too_fast_is_rate_limited_with_a_retry_after(api: Api) -> None:
    for _ in range(3):
        await api.data("alice", CREATE)
    body = await api.call("alice", CREATE)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 60
    database = api.stores.mongo[api.settings.namespace]
    assert await database["posts"].count_documents({}) == 3
    # The limit is per user.
    await api.data("bob", CREATE)


ADD = "mutation($id: ID!) { addFriend(userId: $id) { id } }"


async def test_pending_friend_requests_are_capped_and_requests_rate_limited(api: Api) -> None:
    await api.data("alice", ADD, {"id": "bob"})
    await api.data("alice", ADD, {"id": "carol"})
    assert await api.error_code("alice", ADD, {"id": "dave"}) == "BAD_USER_INPUT"
    sent = "{ viewer { sentFriendRequests { edges { node { id } } } } }"
    edges = (await api.data("alice", sent))["viewer"]["sentFriendRequests"]["edges"]
    assert {edge["node"]["id"] for edge in edges} == {"bob", "carol"}  # dave: nothing stored
    await api.data("alice", 'mutation { removeFriend(userId: "bob") { id } }')
    body = await api.call("alice", ADD, {"id": "erin"})  # the fifth in the window
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
    assert await api.stores.graph.relations("alice", ["erin"]) == [Relation()]
    await api.data("bob", ADD, {"id": "alice"})  # the limit is per user


async def test_blocks_mutes_and_deletes_have_limits_of_their_own(api: Api) -> None:
    await api.data("alice", 'mutation { muteUser(userId: "bob") { id } }')
    await api.data("alice", 'mutation { unmuteUser(userId: "bob") { id } }')
    block = 'mutation { blockUser(userId: "bob") { id } }'
    assert await api.error_code("alice", block) == "RATE_LIMITED"
    assert await api.stores.graph.relations("alice", ["bob"]) == [Relation()]
    created = await api.data("alice", CREATE)
    delete = "mutation($id: ID!) { deletePost(id: $id) { deletedPostId } }"
    assert await api.error_code("alice", delete, {"id": "12345"}) == "NOT_FOUND"
    post_id = created["createPost"]["post"]["id"]
    assert await api.error_code("alice", delete, {"id": post_id}) == "RATE_LIMITED"


async def test_invalid_posts_do_not_use_up_the_allowance(api: Api) -> None:
    bad = 'mutation { createPost(input: {body: "  "}) { post { id } } }'
    for _ in range(5):
        assert await api.error_code("alice", bad) == "BAD_USER_INPUT"
    await api.data("alice", CREATE)


async def test_alias_bombs_are_rejected_before_execution(api: Api) -> None:
    aliases = " ".join(f"a{i}: viewer {{ id }}" for i in range(6))
    body = await api.call("alice", f"{{ {aliases} }}")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_deep_queries_are_rejected_before_execution(api: Api) -> None:
    nested = "id"
    for _ in range(6):
        nested = f"friends {{ edges {{ node {{ {nested} }} }} }}"
    body = await api.call("alice", f"{{ viewer {{ {nested} }} }}")
    assert body["data"] is None
    assert "depth" in body["errors"][0]["message"]


async def test_token_bombs_are_rejected_while_parsing(api: Api) -> None:
    body = await api.call("alice", "{ viewer { " + "id " * 3_000 + "} }")
    assert body["data"] is None
    assert "token" in body["errors"][0]["message"].lower()


async def test_a_literal_page_size_is_checked_before_execution(api: Api) -> None:
    body = await api.call("alice", "{ timeline(first: 1000) { edges { cursor } } }")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "path" not in error  # never reached a resolver


async def test_oversized_bodies_get_413(api: Api) -> None:
    padding = "x" * 70_000
    response = await api.http.post(
        "/graphql",
        content=f'{{"query": "{{ viewer {{ id }} }}", "extensions": {{"p": "{padding}"}}}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_nobody_can_name_another_user_to_read_or_act_as(api: Api) -> None:
    schema = await api.data(
        "alice",
        """{ __schema {
             queryType { fields { name args { name } } }
             subscriptionType { fields { name args { name } } }
           }
           __type(name: "CreatePostInput") { inputFields { name } } }""",
    )
    fields = {
        f["name"]: {a["name"] for a in f["args"]} for f in schema["__schema"]["queryType"]["fields"]
    }
    assert fields["timeline"] == {"first", "after", "last", "before", "order"}
    subscriptions = schema["__schema"]["subscriptionType"]["fields"]
    # The viewer's own streams: nothing names whose.
    assert {(s["name"], tuple(s["args"])) for s in subscriptions} == {
        ("timelinePost", ()),
        ("notification", ()),
    }
    assert {f["name"] for f in schema["__type"]["inputFields"]} == {
        "body",
        "client",
        "idempotencyKey",
        "media",  # the viewer's own uploads: another's answers as a missing one
    }
