"""Walking a user's friend list in keyset chunks, never all of it in one reply."""

from collections.abc import AsyncIterator, Awaitable, Callable

from tidings.stores.graph import FriendGraph

DEFAULT_CHUNK = 1_000

# (user id, after, limit) -> the next ids in ascending order.
IdPage = Callable[[str, str | None, int], Awaitable[list[str]]]


async def _chunks(page: IdPage, user_id: str, size: int) -> AsyncIterator[list[str]]:
    after = None
    while True:
        ids = await page(user_id, after, size)
        if ids:
            yield ids
        if len(ids) < size:
            return
        after = ids[-1]


def friend_chunks(
    graph: FriendGraph, user_id: str, size: int = DEFAULT_CHUNK
) -> AsyncIterator[list[str]]:
    return _chunks(graph.friends_page, user_id, size)


# Muters looked up per post to skip at fan-out; past this many, the rest are
# written to and filtered when they read.
MUTERS_SKIPPED = 10_000


async def reader_chunks(
    graph: FriendGraph, author_id: str, size: int = DEFAULT_CHUNK
) -> AsyncIterator[list[str]]:
    """The author's friends who have not muted them: whom their posts are pushed to."""
    muters = set(await graph.muters(author_id, MUTERS_SKIPPED))
    async for friends in friend_chunks(graph, author_id, size):
        readers = [friend for friend in friends if friend not in muters] if muters else friends
        if readers:
            yield readers


async def friend_ids(graph: FriendGraph, user_id: str) -> list[str]:
    return [friend async for chunk in friend_chunks(graph, user_id) for friend in chunk]
