"""Making and ending friendships, and what each does to both timelines."""

from tidings.feed.celebrities import Celebrities
from tidings.feed.errors import BadUserInput
from tidings.feed.friend_lists import friend_chunks
from tidings.feed.queue import FanoutQueue
from tidings.feed.timeline import TimelineStore
from tidings.feed.users import parse_user_id
from tidings.stores.graph import FriendGraph
from tidings.stores.posts import PostStore


class Friendships:
    def __init__(
        self,
        graph: FriendGraph,
        timelines: TimelineStore,
        posts: PostStore,
        celebrities: Celebrities,
        queue: FanoutQueue,
        *,
        backfill_posts: int,
        timeline_max: int,
    ) -> None:
        self._graph = graph
        self._timelines = timelines
        self._posts = posts
        self._celebrities = celebrities
        self._queue = queue
        self._backfill_posts = backfill_posts
        self._timeline_max = timeline_max

    @staticmethod
    def _other(viewer_id: str, user_id: str) -> str:
        friend_id = parse_user_id(user_id)
        if friend_id == viewer_id:
            raise BadUserInput("You cannot befriend yourself.", field="userId")
        return friend_id

    async def befriend(self, viewer_id: str, user_id: str) -> str:
        friend_id = self._other(viewer_id, user_id)
        if await self._graph.add_friendship(viewer_id, friend_id):
            for reader, author in ((viewer_id, friend_id), (friend_id, viewer_id)):
                recent = await self._posts.recent_by_authors([author], None, self._backfill_posts)
                await self._timelines.add(reader, [post.id for post in recent])
            await self._after_change(viewer_id, friend_id, added=True)
        return friend_id

    async def unfriend(self, viewer_id: str, user_id: str) -> str:
        friend_id = self._other(viewer_id, user_id)
        if await self._graph.remove_friendship(viewer_id, friend_id):
            for reader, author in ((viewer_id, friend_id), (friend_id, viewer_id)):
                oldest = await self._timelines.oldest(reader)
                if oldest is not None:
                    ids = await self._posts.ids_by_author(author, oldest, self._timeline_max + 1)
                    await self._timelines.remove(reader, ids)
            await self._after_change(viewer_id, friend_id, added=False)
        return friend_id

    async def _after_change(self, first: str, second: str, *, added: bool) -> None:
        """Handles either user crossing the celebrity threshold, in either direction."""
        threshold = self._celebrities.threshold
        for user_id in (first, second):
            # Bounded: befriending someone with a million friends must not count them.
            count = await self._graph.count_friends_up_to(user_id, threshold + 1)
            if added and count == threshold:
                # Now pulled: readers must learn so before their cache expires.
                async for friends in friend_chunks(self._graph, user_id):
                    await self._celebrities.forget(friends)
            elif not added and count == threshold - 1:
                # Pushed again: the worker copies their recent posts into their
                # friends' timelines, and only then lets readers stop pulling them.
                await self._queue.enqueue_backfill(user_id)
