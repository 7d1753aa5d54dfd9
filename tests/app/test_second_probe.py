"""The second hostile probe: slow bodies, anonymous floods, budgets over time,
oracles, and sockets that never sign in. Each test failed on the code before it."""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.app.conftest import Api, token
from tests.app.live_server import served, socket
from tests.app.scenario import befriend, post
from tests.spies import record_calls
from tidings.app.settings import Settings
from tidings.app.stores import Stores
from tidings.feed.ties import TieCache
from tidings.schema.schema import TidingsSchema
from tidings.stores.posts import PostStore

TIMELINE = "{ timeline(first: 5) { edges { node { id body } } } }"


# -- slow bodies -------------------------------------------------------------------


@pytest.fixture
async def http_url(settings: Settings, stores: Stores) -> AsyncIterator[str]:
    """A real uvicorn (bodies arrive byte by byte only over a real socket)."""
    settings = settings.model_copy(
        update={
            "max_requests_in_flight": 4,
            "max_anonymous_requests_in_flight": 2,
            "body_deadline_seconds": 1.0,
            "ws_max_pending_per_address": 3,
        }
    )
    async with served(settings) as url:
        yield url.replace("ws://", "http://")


async def stalled_request(
    url: str, authorization: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Headers that promise 1,000 bytes of body, then one byte: and nothing after."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            "POST /graphql HTTP/1.1\r\nHost: tidings\r\nContent-Type: application/json\r\n"
            f"Authorization: {authorization}\r\nContent-Length: 1000\r\n\r\n{{"
        ).encode()
    )
    await writer.drain()
    return reader, writer  # the writer kept: dropped, it would close the socket


async def test_stalled_bodies_take_no_capacity_and_are_cut_off(http_url: str) -> None:
    # Twice the gate's bound, each claiming to be signed in with a junk token.
    stalled = [await stalled_request(http_url, "junk") for _ in range(8)]
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            http_url,
            json={"query": TIMELINE},
            headers={"Authorization": f"Bearer {token('alice')}"},
        )
    # Before: the gate counted them from their first byte, and this was a 503.
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["timeline"]["edges"] == []
    # Each stalled request is answered and closed at its deadline, not held.
    for reader, writer in stalled:
        status = await asyncio.wait_for(reader.readline(), 10)
        assert status.startswith(b"HTTP/1.1 408"), status
        writer.close()


async def test_sockets_that_never_sign_in_are_capped_per_address(http_url: str) -> None:
    ws_url = http_url.replace("http://", "ws://")
    async with contextlib.AsyncExitStack() as opened:
        waiting = [await opened.enter_async_context(socket(ws_url)) for _ in range(3)]
        # A fourth from the same address, none of them signed in: refused at once.
        with pytest.raises(InvalidStatus):
            await opened.enter_async_context(socket(ws_url))
        # One signs in: it no longer counts, and there is room again.
        assert (await waiting[0].init(token("alice")))["type"] == "connection_ack"
        again = await opened.enter_async_context(socket(ws_url))
        assert (await again.init(token("bob")))["type"] == "connection_ack"


async def test_a_client_gone_mid_body_is_one_line_not_a_traceback(
    http_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    host, port = http_url.removeprefix("http://").split("/")[0].split(":")
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /graphql HTTP/1.1\r\nHost: tidings\r\nContent-Length: 100\r\n\r\n{")
    await writer.drain()
    writer.close()
    await writer.wait_closed()

    async def noted() -> bool:
        return any("disconnected before sending" in r.getMessage() for r in caplog.records)

    for _ in range(200):
        if await noted():
            break
        await asyncio.sleep(0.02)
    assert await noted()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- anonymous floods and budgets --------------------------------------------------


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Every document the schema was asked to execute (parse, validate, run)."""
    seen: list[str | None] = []
    real = TidingsSchema.execute

    async def counted(self: TidingsSchema, query: str | None, *args: Any, **kwargs: Any) -> Any:
        seen.append(query)
        return await real(self, query, *args, **kwargs)

    monkeypatch.setattr(TidingsSchema, "execute", counted)
    return seen


async def test_a_large_document_without_a_valid_token_is_never_parsed(
    api: Api, executions: list[str | None]
) -> None:
    flood = "{ viewer { " + "friendCount " * 500 + "} } #" + uuid.uuid4().hex
    for authorization in (None, "Bearer junk"):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = await api.http.post("/graphql", json={"query": flood}, headers=headers)
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert executions == []
    # A small one still gets the ordinary answer (GraphQL over HTTP, probes).
    small = await api.http.post("/graphql", json={"query": "{ __typename }"})
    assert small.json() == {"data": {"__typename": "Query"}}
    assert executions == ["{ __typename }"]


@pytest.fixture
def overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "budget" in request.node.name:
        return {"query_points_per_second": 1, "query_points_burst": 500}
    return {}


async def test_a_signed_in_user_has_a_budget_over_time(api: Api) -> None:
    costly = "{ viewer { friends(first: 100) { edges { node { id friendCount } } } } }"
    first = await api.call("alice", costly)  # about 400 points of the 500
    assert "errors" not in first
    second = await api.call("alice", costly)
    [error] = second["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
    # Someone else's budget is their own.
    assert "errors" not in await api.call("bob", costly)


async def test_only_a_signed_in_user_registers_a_persisted_query(api: Api) -> None:
    import hashlib

    query = "{ __typename }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    await api.http.post("/graphql", json={"query": query, "extensions": extensions})
    headers = {"Authorization": f"Bearer {token('alice')}"}
    by_hash = await api.http.post("/graphql", json={"extensions": extensions}, headers=headers)
    [error] = by_hash.json()["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # Nor does anyone without a token learn whether a hash is known.
    anonymous = await api.http.post("/graphql", json={"extensions": extensions})
    [error] = anonymous.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_field_suggestions_do_not_list_the_schema_without_introspection(
    api: Api,
) -> None:
    body = await api.call("alice", "{ viewer { friendRequest { edges { cursor } } } }")
    [error] = body["errors"]
    assert "friendRequest" in error["message"]
    assert "Did you mean" not in error["message"]


# -- oracles -----------------------------------------------------------------------


@pytest.fixture
def store_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The post-store and tie lookups made, by name, in order."""
    return record_calls(monkeypatch, (PostStore, "get_many"), (TieCache, "ties"))


async def test_a_hidden_post_and_a_missing_id_cost_the_same_store_calls(
    api: Api, store_calls: list[str]
) -> None:
    hidden = (await post(api, "bob", "for friends only"))["id"]
    # bob reads his own post: it is in the API process's cache.
    assert (await api.data("bob", "query($id: ID!) { post(id: $id) { id } }", {"id": hidden}))[
        "post"
    ] == {"id": hidden}
    missing = str(int(hidden) + 1)
    answers = []
    for post_id in (hidden, missing):
        store_calls.clear()
        body = await api.call("xena", "query($id: ID!) { post(id: $id) { id } }", {"id": post_id})
        answers.append((body, list(store_calls)))
    (hidden_answer, hidden_calls), (missing_answer, missing_calls) = answers
    assert hidden_answer == missing_answer == {"data": {"post": None}}
    assert hidden_calls == missing_calls == ["get_many", "ties"]


async def test_every_well_formed_user_id_answers_alike(api: Api) -> None:
    about = "query($id: ID!) { user(id: $id) { id friendCount friendship } }"
    await api.data("mallory", 'mutation { muteUser(userId: "xena") { id } }')
    await befriend(api, "alice", "bob")
    seen = await api.data("carol", about, {"id": "xena"})
    never = await api.data("carol", about, {"id": "nobody-ever"})
    assert seen == {"user": {"id": "xena", "friendCount": 0, "friendship": "NONE"}}
    assert never == {"user": {"id": "nobody-ever", "friendCount": 0, "friendship": "NONE"}}
    assert (await api.data("carol", about, {"id": "bob"}))["user"]["friendCount"] == 1


async def test_an_anonymous_request_learns_only_that_it_must_sign_in(api: Api) -> None:
    body = json.dumps({"query": '{ user(id: "bob") { id } }'})
    response = await api.http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
