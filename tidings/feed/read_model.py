"""What a reader may see of a post, apart from how it is stored.

The read side hands these out (pages, posts by id, live arrivals): the stored
record keeps what only the write side and the worker need (the outbox mark, the
idempotency key) to itself. Counts, the viewer's own state and anything else
attached to a post are not part of it: each comes from its feature's batch step.
"""

from dataclasses import dataclass
from datetime import datetime

from tidings.stores.comments import CommentDocument
from tidings.stores.posts import PostDocument


@dataclass(frozen=True, slots=True)
class PostView:
    id: int
    author_id: str
    body: str
    created_at: datetime
    client: str | None = None
    # Its photos' ids; what they are now (processing, ready) is the media step's.
    media: tuple[str, ...] = ()

    @classmethod
    def of(cls, post: PostDocument) -> "PostView":
        return cls(post.id, post.author_id, post.body, post.created_at, post.client, post.media)


@dataclass(frozen=True, slots=True)
class CommentView:
    """What a reader may see of a comment."""

    id: int
    post_id: int
    author_id: str
    body: str
    created_at: datetime

    @classmethod
    def of(cls, comment: CommentDocument) -> "CommentView":
        return cls(comment.id, comment.post_id, comment.author_id, comment.body, comment.created_at)
