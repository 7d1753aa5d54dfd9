"""Walking a user's friend list in keyset chunks, never all of it in one reply."""

from collections.abc import AsyncIterator

from tidings.stores.graph import FriendGraph

DEFAULT_CHUNK = 1_000


async def friend_chunks(
    graph: FriendGraph, user_id: str, size: int = DEFAULT_CHUNK
) -> AsyncIterator[list[str]]:
    after = None
    while True:
        friends = await graph.friends_page(user_id, after, size)
        if friends:
            yield friends
        if len(friends) < size:
            return
        after = friends[-1]


async def friend_ids(graph: FriendGraph, user_id: str) -> list[str]:
    return [friend async for chunk in friend_chunks(graph, user_id) for friend in chunk]
