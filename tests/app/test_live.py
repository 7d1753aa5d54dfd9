"""The timelinePost subscription over graphql-transport-ws, on a real server and socket."""

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.conftest import token
from tests.app.live_server import GraphQLSocket, served, socket
from tests.app.processes import api_process
from tests.conftest import JWT_SECRET, drop_namespace, eventually
from tidings.app.settings import Settings
from tidings.app.stores import Stores, open_stores
from tidings.app.worker import run_worker
from tidings.feed.keys import Keys
from tidings.feed.live import Listener
from tidings.stores.posts import PostDocument, PostStore
from tidings_tools.client import GraphQLClient

SUBSCRIBE = "subscription { timelinePost { id body author { id } createdAt } }"
THRESHOLD = 3


@dataclass
class Live:
    url: str
    http: httpx.AsyncClient
    stores: Stores
    keys: Keys
    settings: Settings

    async def call(self, user: str, query: str, base: str | None = None) -> dict[str, Any]:
        url = base or self.url.replace("ws://", "http://")
        return await GraphQLClient(self.http, url, JWT_SECRET).data(user, query)

    async def befriend(self, user: str, other: str) -> None:
        await self.call(user, f'mutation {{ addFriend(userId: "{other}") {{ id }} }}')
        await self.call(other, f'mutation {{ addFriend(userId: "{user}") {{ id }} }}')

    async def post(self, user: str, body: str, base: str | None = None) -> str:
        query = f'mutation {{ createPost(input: {{body: "{body}"}}) {{ post {{ id }} }} }}'
        post_id: str = (await self.call(user, query, base))["createPost"]["post"]["id"]
        return post_id

    @contextlib.asynccontextmanager
    async def subscriber(self, user: str) -> AsyncIterator[GraphQLSocket]:
        async with socket(self.url) as ws:
            assert (await ws.init(token(user)))["type"] == "connection_ack"
            await ws.subscribe("1", SUBSCRIBE)
            await self.wait_until_listening(user)
            yield ws

    async def wait_until_listening(self, user: str) -> None:
        channel = self.keys.user_channel(user)

        async def listening() -> bool:
            counts = await self.stores.redis.pubsub_numsub(channel)
            return bool(counts[0][1] > 0)

        await eventually(listening)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    settings = settings.model_copy(
        update={"celebrity_threshold": THRESHOLD, "ws_init_timeout_seconds": 1.0}
    )
    stop = asyncio.Event()
    try:
        async with served(settings) as url, open_stores(settings) as stores:
            worker = asyncio.create_task(run_worker(settings, stop))
            async with httpx.AsyncClient(timeout=10) as http:
                yield Live(url, http, stores, Keys(settings.namespace), settings)
            stop.set()
            await asyncio.wait_for(worker, 10)
    finally:
        await drop_namespace(settings)


async def test_a_friends_post_arrives_live_and_nobody_elses(live: Live) -> None:
    await live.befriend("alice", "bob")
    async with live.subscriber("alice") as alice, live.subscriber("carol") as carol:
        post_id = await live.post("bob", "live from bob")
        post = await alice.next_post()
        assert post["id"] == post_id
        assert post["body"] == "live from bob"
        assert post["author"] == {"id": "bob"}
        # Carol is not bob's friend: nothing reaches her.
        with pytest.raises(TimeoutError):
            await carol.receive(within=0.5)
        own = await live.post("alice", "my own")
        assert (await alice.next_post())["id"] == own


NOTIFY = """subscription { notification { id kind actorCount read
  actors { id } post { id } comment { body } } }"""


async def test_likes_and_comments_arrive_as_live_notifications(live: Live) -> None:
    await live.befriend("alice", "bob")
    async with socket(live.url) as alice, socket(live.url) as bob:
        for user, ws in (("alice", alice), ("bob", bob)):
            assert (await ws.init(token(user)))["type"] == "connection_ack"
            await ws.subscribe("n", NOTIFY)
        for user in ("alice", "bob"):
            channel = live.keys.notification_channel(user)
            await eventually(functools.partial(_listening, live, channel))

        post_id = await live.post("alice", "notify me")
        await live.call("bob", f'mutation {{ likePost(postId: "{post_id}") {{ id }} }}')
        liked = await _next_notification(alice)
        assert (liked["kind"], liked["actors"], liked["post"]) == (
            "POST_LIKED",
            [{"id": "bob"}],
            {"id": post_id},
        )
        assert liked["read"] is False
        comment = f'addComment(input: {{postId: "{post_id}", body: "hi alice"}})'
        await live.call("bob", f"mutation {{ {comment} {{ comment {{ id }} }} }}")
        commented = await _next_notification(alice)
        assert (commented["kind"], commented["comment"]) == ("POST_COMMENTED", {"body": "hi alice"})

        # Bob heard nothing of his own like or comment: the first thing he hears
        # is alice's like of his post, which came after them.
        own = await live.post("bob", "my turn")
        await live.call("alice", f'mutation {{ likePost(postId: "{own}") {{ id }} }}')
        heard = await _next_notification(bob)
        assert (heard["kind"], heard["post"]) == ("POST_LIKED", {"id": own})


async def _listening(live: Live, channel: str) -> bool:
    counts = await live.stores.redis.pubsub_numsub(channel)
    return bool(counts[0][1] > 0)


async def _next_notification(ws: GraphQLSocket) -> dict[str, Any]:
    message = await ws.receive()
    assert message["type"] == "next", message
    found: dict[str, Any] = message["payload"]["data"]["notification"]
    return found


async def test_a_celebrity_friends_post_arrives_live(live: Live) -> None:
    for fan in ("alice", "fan1", "fan2"):
        await live.befriend(fan, "star")
    async with live.subscriber("alice") as alice:
        post_id = await live.post("star", "hello fans")
        assert (await alice.next_post())["id"] == post_id


async def test_only_the_author_and_unmuting_friends_hear_a_post(live: Live) -> None:
    for friend in ("fred", "eve", "bo", "mo"):
        await live.befriend("ann", friend)
    await live.call("pat", 'mutation { addFriend(userId: "ann") { id } }')
    await live.call("eve", 'mutation { removeFriend(userId: "ann") { id } }')
    await live.call("ann", 'mutation { blockUser(userId: "bo") { id } }')
    await live.call("mo", 'mutation { muteUser(userId: "ann") { id } }')
    async with contextlib.AsyncExitStack() as stack:
        sockets = {
            viewer: await stack.enter_async_context(live.subscriber(viewer))
            for viewer in ("ann", "fred", "pat", "eve", "bo", "mo", "sam")
        }
        post_id = await live.post("ann", "who hears this")
        for viewer in ("ann", "fred"):
            assert (await sockets[viewer].next_post())["id"] == post_id, viewer

        async def silent(viewer: str) -> None:
            with pytest.raises(TimeoutError):
                await sockets[viewer].receive(within=0.5)

        await asyncio.gather(*(silent(v) for v in ("pat", "eve", "bo", "mo", "sam")))


async def test_a_celebrity_unfriended_mid_stream_is_heard_no_more(live: Live) -> None:
    for fan in ("alice", "fan1", "fan2", "fan3"):  # still a celebrity without alice
        await live.befriend(fan, "star")
    async with live.subscriber("alice") as alice:
        await live.post("star", "before")
        await alice.next_post()
        # The socket still listens on the celebrity's channel until its list is
        # refreshed; the post must be filtered all the same.
        await live.call("alice", 'mutation { removeFriend(userId: "star") { id } }')
        await live.post("star", "after")
        with pytest.raises(TimeoutError):
            await alice.receive(within=0.5)


async def test_ping_gets_pong(live: Live) -> None:
    async with socket(live.url) as ws:
        await ws.init(token("alice"))
        await ws.send({"type": "ping"})
        assert (await ws.receive())["type"] == "pong"


@pytest.mark.parametrize(
    "credentials",
    [None, "garbage", "expired", "wrong-secret"],
)
async def test_bad_credentials_close_the_socket_before_any_subscription(
    live: Live, credentials: str | None
) -> None:
    import jwt

    tokens = {
        None: None,
        "garbage": "garbage",
        "expired": jwt.encode(
            {"sub": "alice", "exp": int(time.time()) - 600},
            JWT_SECRET,
            algorithm="HS256",
        ),
        "wrong-secret": jwt.encode(
            {"sub": "alice", "exp": int(time.time()) + 600}, "x" * 40, algorithm="HS256"
        ),
    }
    async with socket(live.url) as ws:
        await ws.send(
            {
                "type": "connection_init",
                "payload": {}
                if tokens[credentials] is None
                else {"Authorization": f"Bearer {tokens[credentials]}"},
            }
        )
        await ws.subscribe("1", SUBSCRIBE)
        assert await ws.closed_with() == 4403


async def test_subscribing_before_init_is_unauthorized(live: Live) -> None:
    async with socket(live.url) as ws:
        await ws.subscribe("1", SUBSCRIBE)
        assert await ws.closed_with() == 4401


async def test_a_silent_client_is_closed_after_the_init_timeout(live: Live) -> None:
    async with socket(live.url) as ws:
        assert await ws.closed_with(within=5) == 4408


async def test_subscriptions_per_connection_are_limited(live: Live) -> None:
    async with socket(live.url) as ws:
        await ws.init(token("alice"))
        for operation in range(live.settings.ws_max_subscriptions):
            await ws.subscribe(str(operation), SUBSCRIBE)
        await ws.subscribe("one-too-many", SUBSCRIBE)
        message = await ws.receive()
        assert message["type"] == "error"
        assert message["id"] == "one-too-many"


async def test_disconnects_release_every_channel_and_task(live: Live) -> None:
    await live.befriend("alice", "bob")
    channel = live.keys.user_channel("alice")
    async with live.subscriber("alice"):  # warm up: first-time work is done
        pass
    await asyncio.sleep(0.2)
    baseline = len(asyncio.all_tasks())
    for _ in range(100):
        async with live.subscriber("alice"):
            pass

    async def released() -> bool:
        [(_name, subscribers)] = await live.stores.redis.pubsub_numsub(channel)
        return subscribers == 0 and len(asyncio.all_tasks()) <= baseline

    await eventually(released)


def test_a_slow_consumer_keeps_the_newest_events_within_its_bound() -> None:
    def post(post_id: int) -> PostDocument:
        return PostDocument(post_id, "bob", "x", datetime.now(UTC))

    listener = Listener("alice", capacity=100)
    kept = [listener.put(post(post_id)) for post_id in range(1, 151)]
    assert kept == [True] * 100 + [False] * 50
    assert listener.put(post(150))  # a repeated announcement is not a new event

    async def drain() -> list[int]:
        return [(await listener.next()).id for _ in range(100)]

    assert asyncio.run(drain()) == list(range(51, 151))


async def test_one_lookup_per_post_whatever_the_number_of_subscribers(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    fans = [f"fan{i}" for i in range(6)]
    for fan in fans:
        await live.befriend(fan, "bob")
    lookups: list[list[int]] = []
    real_get_many = PostStore.get_many

    async def counting(self: PostStore, post_ids: Any) -> Any:
        lookups.append(list(post_ids))
        return await real_get_many(self, post_ids)

    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(live.subscriber(fan)) for fan in fans]
        monkeypatch.setattr(PostStore, "get_many", counting)
        post_id = await live.post("bob", "to every fan at once")
        for ws in sockets:
            assert (await ws.next_post())["id"] == post_id
    assert lookups == [[int(post_id)]]


async def test_a_post_made_through_another_api_process_arrives(live: Live, tmp_path: Path) -> None:
    other, base = await api_process(live.settings, tmp_path / "other-api.log")
    try:
        other_url = f"{base}/graphql"
        await live.befriend("alice", "bob")
        async with live.subscriber("alice") as alice:
            post_id = await live.post("bob", "from elsewhere", base=other_url)
            assert (await alice.next_post())["id"] == post_id
    finally:
        other.terminate()
        assert await asyncio.wait_for(other.wait(), 15) == 0


async def test_closing_mid_stream_releases_the_subscription(live: Live) -> None:
    await live.befriend("alice", "bob")
    channel = live.keys.user_channel("alice")
    async with live.subscriber("alice") as alice:
        await live.post("bob", "one")
        await alice.next_post()
        await alice.connection.close()

    async def released() -> bool:
        [(_name, subscribers)] = await live.stores.redis.pubsub_numsub(channel)
        return subscribers == 0

    await eventually(released)
    # Posts keep flowing for others after a subscriber has gone.
    async with live.subscriber("bob") as bob:
        await live.befriend("bob", "carol")
        post_id = await live.post("carol", "still here")
        assert (await bob.next_post())["id"] == post_id


async def test_gqls_websocket_transport_speaks_our_protocol(live: Live) -> None:
    from gql import Client, gql
    from gql.transport.websockets import WebsocketsTransport

    await live.befriend("alice", "bob")
    transport = WebsocketsTransport(
        url=live.url,
        init_payload={"Authorization": f"Bearer {token('alice')}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        ping_interval=0.2,
        pong_timeout=2,
    )
    async with Client(transport=transport) as session:
        received: list[str] = []

        async def listen() -> None:
            async for result in session.subscribe(gql(SUBSCRIBE)):
                received.append(result["timelinePost"]["id"])
                return

        listening = asyncio.create_task(listen())
        await live.wait_until_listening("alice")
        await asyncio.sleep(0.5)  # several ping/pong rounds go by
        post_id = await live.post("bob", "via gql")
        await asyncio.wait_for(listening, 5)
    assert received == [post_id]
