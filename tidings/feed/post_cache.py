"""Posts kept in the API process: a warm page needs no MongoDB round trip, and keeps
answering while MongoDB is down.

Posts never change after they are written; a delete is the only change, and it
evicts the post here at once and, through Redis pub/sub, in every other API
process. Entries also expire, so a delete announced while pub/sub was down is
not served for long.
"""

from collections.abc import Iterable

from tidings.feed.expiring_cache import ExpiringCache
from tidings.stores.posts import PostDocument


class PostCache(ExpiringCache[int, PostDocument]):
    def put_many(self, posts: Iterable[PostDocument]) -> None:
        self.put_items((post.id, post) for post in posts)
