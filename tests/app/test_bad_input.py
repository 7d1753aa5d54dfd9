"""Every bad input gets a coded error and changes nothing."""

import time
from typing import Any

import jwt
import pytest

from tests.app.conftest import Api
from tests.conftest import JWT_SECRET

CREATE = "mutation($input: CreatePostInput!) { createPost(input: $input) { post { id } } }"


async def nothing_stored(api: Api) -> None:
    database = api.stores.mongo[api.settings.namespace]
    assert await database["posts"].count_documents({}) == 0
    assert await api.stores.redis.xlen(api.queue.stream) == 0


@pytest.mark.parametrize(
    "post_input",
    [
        {"body": ""},
        {"body": "   \n\t"},
        {"body": "é" * 512 + "x"},
        {"body": "a" * 1_025},
        {"body": "ok", "client": "c" * 65},
        {"body": "\ud800"},
    ],
    ids=["empty", "whitespace", "1025-multibyte", "1025-ascii", "long-client", "surrogate"],
)
async def test_bad_posts_are_refused_and_not_stored(api: Api, post_input: dict[str, Any]) -> None:
    assert await api.error_code("alice", CREATE, {"input": post_input}) == "BAD_USER_INPUT"
    await nothing_stored(api)


async def test_a_full_kilobyte_of_multibyte_text_is_accepted(api: Api) -> None:
    data = await api.data("alice", CREATE, {"input": {"body": "é" * 512}})
    assert data["createPost"]["post"]["id"]


def bearer(claims: dict[str, Any], secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return "Bearer " + jwt.encode(claims, secret, algorithm=algorithm)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer garbage",
        bearer({"sub": "alice", "exp": int(time.time()) - 3_600}),
        bearer({"sub": "alice", "exp": int(time.time()) + 60}, secret="x" * 40),
        bearer({"sub": "alice", "exp": int(time.time()) + 60}, secret="", algorithm="none"),
        bearer({"sub": "no spaces allowed", "exp": int(time.time()) + 60}),
    ],
    ids=["missing", "malformed", "expired", "wrong-signature", "alg-none", "invalid-sub"],
)
async def test_bad_tokens_are_unauthenticated_and_change_nothing(
    api: Api, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for query in (
        'mutation { createPost(input: {body: "sneaky"}) { post { id } } }',
        'mutation { addFriend(userId: "bob") { id } }',
        "{ timeline { edges { cursor } } }",
        "{ viewer { id } }",
    ):
        response = await api.http.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    await nothing_stored(api)
    assert await api.stores.graph.user_summaries(["bob"]) == [None]


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_page_size_out_of_range(api: Api, first: int) -> None:
    query = "query($first: Int) { timeline(first: $first) { edges { cursor } } }"
    assert await api.error_code("alice", query, {"first": first}) == "BAD_USER_INPUT"
    friends = "query($first: Int) { viewer { friends(first: $first) { edges { cursor } } } }"
    assert await api.error_code("alice", friends, {"first": first}) == "BAD_USER_INPUT"


async def test_malformed_and_tampered_cursors(api: Api) -> None:
    await api.data("alice", 'mutation { addFriend(userId: "bob") { id } }')
    await api.data("bob", 'mutation { addFriend(userId: "alice") { id } }')
    friends = await api.data("alice", "{ viewer { friends { edges { cursor } } } }")
    friend_cursor = friends["viewer"]["friends"]["edges"][0]["cursor"]
    query = "query($after: String) { timeline(after: $after) { edges { cursor } } }"
    tampered = ("B" if friend_cursor[0] != "B" else "C") + friend_cursor[1:]
    for cursor in ("not-a-cursor", "", friend_cursor, tampered, "%%%", "A" * 1_000):
        assert await api.error_code("alice", query, {"after": cursor}) == "BAD_USER_INPUT"


@pytest.mark.parametrize("user_id", ["alice", "", "has space", "x" * 65, "emoji🙂"])
async def test_add_friend_with_self_or_invalid_id(api: Api, user_id: str) -> None:
    query = "mutation($id: ID!) { addFriend(userId: $id) { id } }"
    assert await api.error_code("alice", query, {"id": user_id}) == "BAD_USER_INPUT"
    assert await api.stores.graph.user_summaries(["alice"]) == [None]


@pytest.mark.parametrize("post_id", ["abc", "-5", "1e9", str(2**60)])
async def test_malformed_post_ids(api: Api, post_id: str) -> None:
    query = "query($id: ID!) { post(id: $id) { id } }"
    assert await api.error_code("alice", query, {"id": post_id}) == "BAD_USER_INPUT"
    many = "query($ids: [ID!]!) { posts(ids: $ids) { id } }"
    assert await api.error_code("alice", many, {"ids": ["1", post_id]}) == "BAD_USER_INPUT"


async def test_too_many_ids_at_once(api: Api) -> None:
    many = "query($ids: [ID!]!) { posts(ids: $ids) { id } }"
    ids = [str(i) for i in range(101)]
    assert await api.error_code("alice", many, {"ids": ids}) == "BAD_USER_INPUT"


async def test_invalid_documents_and_variables_are_bad_user_input(api: Api) -> None:
    assert await api.error_code("alice", "{ nope }") == "BAD_USER_INPUT"
    assert await api.error_code("alice", "{ timeline(") == "BAD_USER_INPUT"
    query = "query($first: Int) { timeline(first: $first) { edges { cursor } } }"
    assert await api.error_code("alice", query, {"first": "many"}) == "BAD_USER_INPUT"
    await nothing_stored(api)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", "application/json"),
        (b'{"query": 5}', "application/json"),
        (b'{"foo": 1}', "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"query": "{ viewer { id } }", "variables": 7}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"query=1", "text/plain"),
    ],
    ids=["not-json", "query-not-string", "no-query", "batch", "bad-variables", "binary", "text"],
)
async def test_requests_that_are_not_graphql_get_400(
    api: Api, body: bytes, content_type: str
) -> None:
    response = await api.http.post("/graphql", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400


async def test_health_and_readiness(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True,
        "stores": {"redis": "ok", "mongodb": "ok", "graph": "ok"},
    }
