"""No single request, socket or user can starve the server: every attack once seen.

Each case asserts the answer and, where it matters, a bound on the work done
(fields counted, selections visited), never wall time.
"""

import asyncio
import base64
import json
import os
import socket as sockets
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import websockets
from graphql import OperationDefinitionNode, parse

from tests.app.conftest import Api, token
from tests.app.live_server import GraphQLSocket, served, socket
from tests.conftest import JWT_SECRET, drop_namespace, eventually
from tests.ranking_service import RankingService
from tidings.app.admission import LoadGate
from tidings.app.settings import Settings
from tidings.schema.limits import DocumentMeasurer
from tidings.schema.schema import build_schema
from tidings_tools.bench import costly_query, fragment_bomb

SUBSCRIBE = "subscription { timelinePost { id } }"


async def anonymous(api: Api, body: str | bytes) -> httpx.Response:
    return await api.http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )


# -- documents ---------------------------------------------------------------------


# A trailing space once defeated the validation cache: the limits hold all the same.
@pytest.mark.parametrize(
    ("per_level", "levels", "suffix"), [(10, 6, ""), (10, 6, " "), (20, 7, "")]
)
async def test_fragment_bombs_are_refused_before_execution(
    api: Api, per_level: int, levels: int, suffix: str
) -> None:
    query = fragment_bomb(per_level, levels) + suffix
    # Without a token it is not even parsed.
    response = await anonymous(api, json.dumps({"query": query}))
    assert response.json()["data"] is None
    assert {e["extensions"]["code"] for e in response.json()["errors"]} == {"UNAUTHENTICATED"}
    # With one, its limits refuse it before anything runs.
    body = await api.call("alice", query)
    assert body["data"] is None
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"BAD_USER_INPUT"}
    assert any("cost" in error["message"] for error in body["errors"])
    # The work: one visit per selection written, not per selection expanded.
    document = parse(query)
    measurer = DocumentMeasurer(document, build_schema().cost_model)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    measure = measurer.operation(operation)
    assert measure.cost > per_level**levels
    assert measurer.visited == 4 * per_level * levels + 3


async def test_nested_connections_over_budget_are_refused_with_cost_and_limit(api: Api) -> None:
    body = await api.call("alice", costly_query())
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["maxCost"] == api.settings.query_max_cost
    assert error["extensions"]["cost"] > 10 * 100**3
    assert "costs" in error["message"]


async def test_a_query_within_budget_runs(api: Api) -> None:
    body = await api.call(
        "alice", "{ viewer { friends(first: 100) { edges { node { id friendCount } } } } }"
    )
    assert "errors" not in body


# Fifteen aliases of friends-of-friends, sized by a variable declared with a tiny
# default: once costed by the default (180) and run with the value sent.
NESTED_BY_VARIABLE = (
    "query($n: Int = 1) { "
    + " ".join(
        f"a{i}: viewer {{ friends(first: $n) {{ edges {{ node {{ "
        f"friends(first: $n) {{ edges {{ node {{ id }} }} }} }} }} }} }}"
        for i in range(15)
    )
    + " }"
)


async def test_a_variable_is_costed_as_sent_not_as_its_default(api: Api) -> None:
    body = await api.call("alice", NESTED_BY_VARIABLE, {"n": 100})
    assert "data" not in body or body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["cost"] > api.settings.query_max_cost
    # The same document with a small value runs: it is the value that is refused.
    small = await api.call("alice", NESTED_BY_VARIABLE, {"n": 2})
    assert "errors" not in small
    assert len(small["data"]) == 15


# -- bodies ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 20_000])
async def test_deeply_nested_json_is_a_400_not_a_500(api: Api, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    response = await anonymous(
        api, '{"query": "{ viewer { id } }", "variables": {"x": ' + nested + "}}"
    )
    assert response.status_code == 400
    assert "nested" in response.text


async def test_a_subscription_over_http_says_to_use_a_websocket(api: Api) -> None:
    # A GraphQL error in the media type negotiated, with a code: clients parse JSON.
    for accept, status in (("application/graphql-response+json", 400), (None, 200)):
        headers = {"Authorization": f"Bearer {api.client.token('alice')}"}
        if accept is not None:
            headers["Accept"] = accept
        response = await api.http.post("/graphql", json={"query": SUBSCRIBE}, headers=headers)
        assert response.status_code == status
        assert response.headers["content-type"].startswith(accept or "application/json")
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "WebSocket" in error["message"]


@pytest.mark.parametrize(
    "variables",
    [
        {"body": "hi", "client": "app\x00"},
        {"body": "hi", "client": "app\x1b[2J"},
        {"body": "hi", "client": "\u202eppa"},
        {"body": "\u200b\u200c\u200d"},
    ],
    ids=["nul-client", "escape-client", "bidi-client", "zero-width-body"],
)
async def test_invisible_or_control_text_is_refused_and_nothing_stored(
    api: Api, variables: dict[str, Any]
) -> None:
    create = (
        "mutation($body: String!, $client: String) "
        "{ createPost(input: {body: $body, client: $client}) { post { id } } }"
    )
    assert await api.error_code("alice", create, variables) == "BAD_USER_INPUT"
    assert await api.stores.mongo[api.settings.namespace]["posts"].count_documents({}) == 0


# -- load --------------------------------------------------------------------------


def test_the_gate_keeps_room_for_signed_in_users() -> None:
    gate = LoadGate(max_in_flight=3, max_anonymous_in_flight=1)
    assert gate.admits(anonymous=True)
    gate.in_flight, gate.anonymous_in_flight = 1, 1
    assert not gate.admits(anonymous=True)
    assert gate.admits(anonymous=False)
    gate.in_flight = 3
    assert not gate.admits(anonymous=False)


@pytest.fixture
def overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.node.name != "test_past_the_bound_requests_are_shed_and_health_stays_up":
        return {}
    ranking: RankingService = request.getfixturevalue("ranking_service")
    ranking.mode = "slow"  # every ranked session takes its whole timeout
    return {
        "max_requests_in_flight": 2,
        "ranking_url": ranking.url,
        "ranking_timeout_ms": 2_000,
    }


async def test_past_the_bound_requests_are_shed_and_health_stays_up(
    api: Api, ranking_service: RankingService
) -> None:
    ranking = ranking_service
    for text in ("one", "two"):  # a session of two posts is ranked
        await api.data(
            "alice", f'mutation {{ createPost(input: {{body: "{text}"}}) {{ post {{ id }} }} }}'
        )
    page = "{ timeline(order: RANKED) { edges { cursor } } }"
    slow = [asyncio.create_task(api.call("alice", page)) for _ in range(2)]

    async def both_in_flight() -> bool:  # both waiting on the ranker
        return len(ranking.requests) >= 2

    await eventually(both_in_flight)
    shed = await api.client.post("bob", page)
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    [error] = shed.json()["errors"]
    assert error["extensions"] == {"code": "UNAVAILABLE", "retryAfter": 1}
    assert (await api.http.get("/healthz")).status_code == 200
    for body in await asyncio.gather(*slow):
        assert len(body["data"]["timeline"]["edges"]) == 2  # ranked by the built-in score
    assert (await api.client.post("bob", page)).status_code == 200


# -- sockets -----------------------------------------------------------------------


@pytest.fixture
async def ws_url(settings: Settings) -> AsyncIterator[str]:
    settings = settings.model_copy(
        update={
            "jwt_leeway_seconds": 0,
            "ws_max_message_bytes": 4_096,
            "ws_ping_interval_seconds": 0.3,
            "ws_ping_timeout_seconds": 0.3,
            "ws_max_sockets_per_user": 2,
            "ws_idle_seconds": 1.0,
        }
    )
    try:
        async with served(settings) as url:
            yield url
    finally:
        await drop_namespace(settings)


async def test_a_frame_over_the_cap_closes_the_socket_even_at_init(ws_url: str) -> None:
    async with socket(ws_url) as ws:
        padding = "x" * 10_000
        payload = {"Authorization": f"Bearer {token('alice')}", "padding": padding}
        await ws.send({"type": "connection_init", "payload": payload})
        assert await ws.closed_with() == 1009  # message too big


async def test_a_socket_closes_when_its_token_expires(ws_url: str) -> None:
    claims = {"sub": "alice", "exp": int(time.time()) + 2}
    short = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    async with socket(ws_url) as ws:
        assert (await ws.init(short))["type"] == "connection_ack"
        await ws.subscribe("1", SUBSCRIBE)
        assert await ws.closed_with(within=5) == 4403


async def test_sockets_per_user_are_capped(ws_url: str) -> None:
    async def subscribed(ws: GraphQLSocket, user: str = "alice") -> GraphQLSocket:
        assert (await ws.init(token(user)))["type"] == "connection_ack"
        await ws.subscribe("1", SUBSCRIBE)
        return ws

    async with socket(ws_url) as first, socket(ws_url) as second:
        await subscribed(first)
        await subscribed(second)
        async with socket(ws_url) as third:
            await third.send(init("alice"))
            assert await third.closed_with() == 4403
        async with socket(ws_url) as bobs:  # the cap is per user
            await subscribed(bobs, "bob")

    async def room_again() -> bool:  # the two closed: released once the server saw it
        async with socket(ws_url) as again:
            await again.send(init("alice"))
            try:
                return bool((await again.receive())["type"] == "connection_ack")
            except websockets.ConnectionClosed:
                return False

    await eventually(room_again, within=5, interval=0.1)


async def test_an_idle_socket_is_closed_and_a_subscribed_one_is_not(ws_url: str) -> None:
    async with socket(ws_url) as idle, socket(ws_url) as busy:
        assert (await idle.init(token("alice")))["type"] == "connection_ack"
        assert (await busy.init(token("bob")))["type"] == "connection_ack"
        await busy.subscribe("1", SUBSCRIBE)
        assert await idle.closed_with(within=5) == 4408
        await busy.send({"type": "ping"})
        assert (await busy.receive())["type"] == "pong"


def init(user: str) -> dict[str, Any]:
    return {"type": "connection_init", "payload": {"Authorization": f"Bearer {token(user)}"}}


def _frame(text: str) -> bytes:
    """One masked text frame, as a client must send it."""
    data = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(data) < 126:
        header += bytes([0x80 | len(data)])
    else:
        header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def test_a_peer_that_never_reads_is_disconnected(ws_url: str) -> None:
    host, port = ws_url.removeprefix("ws://").split("/")[0].split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    )
    first = json.dumps(init("alice"))

    def never_read() -> bytes:
        with sockets.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(handshake.encode())
            response = raw.recv(4096)
            assert b" 101 " in response
            raw.sendall(_frame(first))
            # Reads nothing, so answers no ping, for several ping deadlines.
            time.sleep(1.5)
            received = b""
            while chunk := raw.recv(65_536):  # until the server hangs up
                received += chunk
            return received

    received = await asyncio.to_thread(never_read)
    assert b"\x88" in received  # the server's close frame came before it hung up
