"""Steps that many API tests take: the documents they send and what they wait for."""

import time
from typing import Any

from tests.app.conftest import Api
from tests.conftest import eventually
from tidings.app.stores import Stores
from tidings.feed.keys import Keys
from tidings.feed.queue import FanoutQueue
from tidings.feed.timeline import TimelineStore

CREATE = """
mutation($body: String!, $client: String) {
  createPost(input: {body: $body, client: $client}) {
    post { id body client createdAt author { id } }
  }
}"""
TIMELINE = """
query($first: Int, $after: String) {
  timeline(first: $first, after: $after) {
    edges { cursor node { id body author { id friendCount } createdAt client } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
ADD = "mutation($id: ID!) { addFriend(userId: $id) { id friendCount } }"
REMOVE = "mutation($id: ID!) { removeFriend(userId: $id) { id friendCount } }"
DELETE = "mutation($id: ID!) { deletePost(id: $id) { deletedPostId } }"


async def post(api: Api, user: str, body: str, client: str | None = None) -> dict[str, Any]:
    data = await api.data(user, CREATE, {"body": body, "client": client})
    created: dict[str, Any] = data["createPost"]["post"]
    return created


async def befriend(api: Api, user: str, *others: str) -> None:
    """Friends by consent: the user asks each of the others, who asks back."""
    for other in others:
        await api.data(user, ADD, {"id": other})
        await api.data(other, ADD, {"id": user})


async def have_read(api: Api, readers: list[str], post_id: str) -> None:
    """Each reader has seen the post (as people do before they like it): their ties
    are cached, and the burst below is of likes, not of first reads."""
    for reader in readers:
        seen = await api.data(reader, "query($id: ID!) { post(id: $id) { id } }", {"id": post_id})
        assert seen["post"] == {"id": post_id}


async def timeline_ids(api: Api, user: str, first: int = 100) -> list[str]:
    data = await api.data(user, TIMELINE, {"first": first})
    return [edge["node"]["id"] for edge in data["timeline"]["edges"]]


async def all_pages(api: Api, user: str, first: int) -> list[str]:
    """Every post id of the user's timeline, paging `first` at a time."""
    seen: list[str] = []
    after = None
    while True:
        data = await api.data(user, TIMELINE, {"first": first, "after": after})
        connection = data["timeline"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]


async def wait_for_post(api: Api, user: str, post_id: str) -> None:
    async def arrived() -> bool:
        return post_id in await timeline_ids(api, user)

    await eventually(arrived)


async def cached(api: Api, user: str) -> list[int]:
    """The post ids the user's stored timeline holds (not what a read answers)."""
    return (await api.timelines.read(user, None, 1_000)).post_ids


async def wait_until_cached(api: Api, user: str, post_id: str) -> None:
    async def arrived() -> bool:
        return int(post_id) in await cached(api, user)

    await eventually(arrived)


async def queue_drained(queue: FanoutQueue) -> bool:
    sizes = await queue.sizes()
    return sizes.length == 0 and sizes.pending == 0


async def active_readers(
    stores: Stores, timelines: TimelineStore, author: str, count: int
) -> list[str]:
    """`count` friends of the author, each with a built timeline and reading now."""
    readers = [f"{author}-r{i:05d}" for i in range(count)]
    await stores.graph.befriend_many(author, readers)
    now = time.time()
    for reader in [*readers, author]:
        await timelines.build(reader, [], now)
    return readers


async def holding(stores: Stores, keys: Keys, readers: list[str], post_id: int) -> int:
    """How many of these readers' stored timelines hold the post."""
    async with stores.redis.pipeline(transaction=False) as pipe:
        for reader in readers:
            pipe.zscore(keys.timeline(reader), str(post_id))
        scores = await pipe.execute()
    return sum(score is not None for score in scores)
