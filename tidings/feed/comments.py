"""Comments on a post: written by whoever may read the post, under the same text
rules as a post, and hidden between people who blocked one another."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tidings.feed.affinity import COMMENT
from tidings.feed.changed_groups import comments_on
from tidings.feed.errors import NotFound
from tidings.feed.ids import PostIdGenerator, post_id_time
from tidings.feed.interactions import Interactions
from tidings.feed.lookup import ReadLookup
from tidings.feed.paging import check_page_size
from tidings.feed.posts import validate_idempotency_key, validate_post
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.read_model import CommentView
from tidings.feed.visibility import readable_post
from tidings.stores.comments import CommentDocument, CommentIdTaken, CommentStore
from tidings.stores.counters import FIRST_COMMENTS
from tidings.stores.graph import FriendGraph

# What a missing comment answers, and so what one the viewer may not touch does.
NO_SUCH_COMMENT = "There is no comment with this id."
_ID_ATTEMPTS = 5
# Rounds of reading past comments hidden by blocks, before a page answers short.
_HIDDEN_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class FirstComments:
    """A post's first comments as one viewer sees them, for a page to show."""

    shown: list[CommentView]
    # Whether the post has no comments past these.
    complete: bool

    def first_page(self, first: int) -> tuple[list[CommentView], bool, int | None] | None:
        """The thread's first page of `first`, as `Comments.thread` answers it, if
        these are enough to tell."""
        if first < len(self.shown):
            return self.shown[:first], True, self.shown[first - 1].id
        if self.complete:
            return self.shown, False, self.shown[-1].id if self.shown else None
        return None


class Comments:
    def __init__(
        self,
        store: CommentStore,
        graph: FriendGraph,
        ids: PostIdGenerator,
        limiter: RateLimiter,
        interactions: Interactions,
    ) -> None:
        self._store = store
        self._graph = graph
        self._ids = ids
        self._limiter = limiter
        self._interactions = interactions

    async def add(
        self,
        viewer_id: str,
        post_id: int,
        body: str,
        idempotency_key: str | None,
        lookup: ReadLookup,
    ) -> CommentView:
        """Stores the comment; with a key, a retry returns the first one and stores
        nothing new (nor counts against the limit)."""
        post = await readable_post(viewer_id, post_id, lookup)
        body, _client = validate_post(body, None)
        if idempotency_key is not None:
            validate_idempotency_key(idempotency_key)
            earlier = await self._store.by_idempotency_key(viewer_id, idempotency_key)
            if earlier is not None:
                return CommentView.of(earlier)
        await self._limiter.take(viewer_id)
        spread = await self._interactions.is_hot(post_id)
        for _attempt in range(_ID_ATTEMPTS):
            comment_id = self._ids.next_id()
            comment = CommentDocument(
                comment_id, post_id, viewer_id, body, post_id_time(comment_id)
            )
            try:
                stored = await self._store.insert(comment, idempotency_key, spread=spread)
            except CommentIdTaken:
                continue
            group = comments_on(post_id)
            await self._interactions.happened(viewer_id, post.author_id, group, COMMENT)
            return CommentView.of(stored)
        raise RuntimeError("could not allocate a unique comment id")

    async def delete(self, viewer_id: str, comment_id: int, lookup: ReadLookup) -> None:
        """By the comment's author, or the post's; anyone else gets what a missing
        comment gets."""
        comment = await self._store.get(comment_id)
        if comment is None:
            raise NotFound(NO_SUCH_COMMENT)
        if comment.author_id != viewer_id:
            [post] = await lookup.stored_posts([comment.post_id])
            if post is None or post.author_id != viewer_id:
                raise NotFound(NO_SUCH_COMMENT)
        await self._limiter.take(viewer_id)
        spread = await self._interactions.is_hot(comment.post_id)
        if await self._store.delete(comment, spread=spread):
            # The notification that named it names the one before, or goes.
            await self._interactions.regroup(comments_on(comment.post_id))

    async def thread(
        self,
        viewer_id: str,
        post_id: int,
        after: int | None,
        first: int,
        lookup: ReadLookup,
    ) -> tuple[list[CommentView], bool, int | None]:
        """A page of the post's comments, oldest first, without those of anyone the
        viewer blocked or who blocked the viewer; whether more follow; and the id
        the next page starts after (the last one this page looked at)."""
        await readable_post(viewer_id, post_id, lookup)
        wanted = check_page_size(first) + 1  # one more tells whether a next page exists
        shown: list[CommentView] = []
        position = after
        for _round in range(_HIDDEN_ROUNDS):
            need = wanted - len(shown)
            found = await self._store.thread(post_id, position, need)
            authors = sorted({comment.author_id for comment in found} - {viewer_id})
            hidden = await self._graph.blocked_either_way(viewer_id, authors)
            for comment in found:
                position = comment.id
                if comment.author_id in hidden:
                    continue
                shown.append(CommentView.of(comment))
                if len(shown) == wanted:
                    # The next page starts after the last one shown on this one.
                    return shown[:first], True, shown[first - 1].id
            if len(found) < need:  # the thread ends here
                return shown, False, shown[-1].id if shown else position
        # Many hidden in a row: answer what there is; the cursor goes on from here.
        return shown, True, position

    async def first_comments(
        self, viewer_id: str, stored: Mapping[int, Sequence[dict[str, Any]]]
    ) -> dict[int, FirstComments]:
        """For a page's posts (which the caller has checked the viewer may read),
        their first comments as stored with their counts: without those of anyone
        hidden from the viewer, at the cost of one graph query for the page."""
        firsts = {
            post_id: [CommentDocument.from_mongo(c) for c in comments]
            for post_id, comments in stored.items()
        }
        authors = {c.author_id for first in firsts.values() for c in first} - {viewer_id}
        hidden = (
            await self._graph.blocked_either_way(viewer_id, sorted(authors)) if authors else set()
        )
        return {
            post_id: FirstComments(
                [CommentView.of(c) for c in first if c.author_id not in hidden],
                complete=len(first) < FIRST_COMMENTS,
            )
            for post_id, first in firsts.items()
        }

    async def forget_post(self, post_id: int) -> None:
        await self._store.forget_post(post_id)
