"""GraphQL object types: the public shape, kept apart from storage documents."""

from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import TypeVar, cast

import strawberry
from strawberry.types import Info

from tidings.feed.media import MAX_MEDIA_PER_POST, MediaLibrary, MediaView, UploadTicket
from tidings.feed.media import MediaSize as StoredSize
from tidings.feed.notifications import notification_id
from tidings.feed.read_model import CommentView, PostView
from tidings.resolvers import comments, likes, media, notifications, queries, timeline
from tidings.resolvers.comments import COMMENT_COUNTS
from tidings.resolvers.context import Context
from tidings.resolvers.friend_counts import AUTHOR_FRIEND_COUNTS, friend_count
from tidings.resolvers.likes import LIKE_COUNTS, VIEWER_LIKES
from tidings.resolvers.page_builder import NO_FACTS, PageFacts
from tidings.resolvers.pages import Page
from tidings.stores.graph import Relation, RelationList
from tidings.stores.markers import TimelineMarker as StoredMarker
from tidings.stores.media import MediaState
from tidings.stores.notifications import NotificationDocument

Node = TypeVar("Node")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Node]) -> "PageInfo":
        return cls(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.edges[0][0] if page.edges else None,
            end_cursor=page.end_cursor or (page.edges[-1][0] if page.edges else None),
        )


@strawberry.enum(description="How the viewer stands with a user, as the viewer sees it.")
class Friendship(Enum):
    NONE = "NONE"
    REQUEST_SENT = "REQUEST_SENT"
    REQUEST_RECEIVED = "REQUEST_RECEIVED"
    FRIENDS = "FRIENDS"
    BLOCKED = "BLOCKED"

    @classmethod
    def of(cls, relation: Relation) -> "Friendship":
        if relation.blocked:
            return cls.BLOCKED
        if relation.friends:
            return cls.FRIENDS
        if relation.sent:
            return cls.REQUEST_SENT
        if relation.received:
            return cls.REQUEST_RECEIVED
        return cls.NONE


@strawberry.type
class User:
    id: strawberry.ID
    # What the page naming this user (as a post's author) loaded in batch steps.
    facts: strawberry.Private[PageFacts] = NO_FACTS

    @strawberry.field
    def friend_count(self, info: Info[Context, None]) -> int:
        return self.facts.or_load(
            AUTHOR_FRIEND_COUNTS, self.id, lambda: friend_count(info.context, self.id)
        )

    @strawberry.field
    async def friendship(self, info: Info[Context, None]) -> Friendship:
        return Friendship.of(await queries.relation(info.context, self.id))

    @strawberry.field(description="Null unless the viewer is this user or a friend.")
    async def friends(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "UserConnection | None":
        return UserConnection.of(await queries.friends(info.context, self.id, first, after))

    @strawberry.field(description="Incoming, newest first; the viewer only (null elsewhere).")
    async def friend_requests(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "UserConnection | None":
        page = await queries.ties(
            info.context, self.id, RelationList.INCOMING_REQUESTS, first, after
        )
        return UserConnection.of(page)

    @strawberry.field(description="Newest first; the viewer only (null elsewhere).")
    async def sent_friend_requests(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "UserConnection | None":
        page = await queries.ties(
            info.context, self.id, RelationList.OUTGOING_REQUESTS, first, after
        )
        return UserConnection.of(page)

    @strawberry.field(description="Newest first; the viewer only (null elsewhere).")
    async def blocked(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "UserConnection | None":
        page = await queries.ties(info.context, self.id, RelationList.BLOCKED, first, after)
        return UserConnection.of(page)

    @strawberry.field(
        description="Friends of friends, most mutual friends first; the viewer only "
        "(empty elsewhere). Excludes friends, requests either way and blocks."
    )
    async def suggested_friends(
        self, info: Info[Context, None], first: int = 10
    ) -> list["Suggestion"]:
        found = await queries.suggestions(info.context, self.id, first)
        return [
            Suggestion(user=User(id=strawberry.ID(s.id)), mutual_friend_count=s.mutual_friends)
            for s in found
        ]

    @strawberry.field(
        description="The newest post the viewer has read, kept across devices; the "
        "viewer only (null elsewhere)."
    )
    async def timeline_marker(self, info: Info[Context, None]) -> "TimelineMarker | None":
        found = await timeline.marker(info.context, self.id)
        return None if found is None else TimelineMarker.of(info.context, found)

    @strawberry.field(description="Newest first; the viewer only (null elsewhere).")
    async def notifications(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "NotificationConnection | None":
        page = await notifications.newest(info.context, self.id, first, after)
        return None if page is None else NotificationConnection.of(page)

    @strawberry.field(description="The viewer only (null elsewhere).")
    async def unread_notification_count(self, info: Info[Context, None]) -> int | None:
        return await notifications.unread_count(info.context, self.id)

    @strawberry.field(description="Newest first; the viewer only (null elsewhere).")
    async def muted(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "UserConnection | None":
        page = await queries.ties(info.context, self.id, RelationList.MUTED, first, after)
        return UserConnection.of(page)


@strawberry.type(description="Someone the viewer may know.")
class Suggestion:
    user: User
    mutual_friend_count: int = strawberry.field(
        description="Friends the viewer shares with them (a sample, for very popular friends)."
    )


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[str] | None) -> "UserConnection | None":
        if page is None:
            return None
        return cls(
            edges=[
                UserEdge(cursor=cursor, node=User(id=strawberry.ID(node)))
                for cursor, node in page.edges
            ],
            page_info=PageInfo.of(page),
        )


@strawberry.type
class Post:
    id: strawberry.ID
    body: str
    created_at: datetime
    client: str | None
    # A plain value, not a resolver: one field of twenty posts on every page.
    author: User
    # What the page's batch steps loaded, for the fields of features to read.
    facts: strawberry.Private[PageFacts] = NO_FACTS
    media_ids: strawberry.Private[tuple[str, ...]] = ()

    @strawberry.field(
        description="Its photos, in order. Friends see a new post at once, with its "
        "photos PROCESSING until the worker has made their renditions."
    )
    def media(self, info: Info[Context, None]) -> list["Media"]:
        found = media.media_of(info.context, self.facts, int(self.id), self.media_ids)
        library = info.context.backends.media
        if isinstance(found, list):
            return [Media.of(view, library) for view in found]

        async def later(found: Awaitable[list[MediaView]]) -> list[Media]:
            return [Media.of(view, library) for view in await found]

        # Typed as the value: graphql-core awaits it (see PageFacts.or_load).
        return cast(list[Media], later(found))

    @strawberry.field(description="How many people like the post.")
    def like_count(self, info: Info[Context, None]) -> int:
        return LIKE_COUNTS.resolve(info.context, self.facts, int(self.id))

    @strawberry.field(description="Whether the viewer likes the post.")
    def viewer_has_liked(self, info: Info[Context, None]) -> bool:
        return VIEWER_LIKES.resolve(info.context, self.facts, int(self.id))

    @strawberry.field(description="How many comments the post has (all of them).")
    def comment_count(self, info: Info[Context, None]) -> int:
        return COMMENT_COUNTS.resolve(info.context, self.facts, int(self.id))

    @strawberry.field(
        description="Oldest first; without those of anyone the viewer blocked or who "
        "blocked the viewer."
    )
    def comments(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "CommentConnection":
        page = comments.thread(info.context, int(self.id), first, after, self.facts)
        if isinstance(page, Page):
            return CommentConnection.of(page)

        async def later(page: Awaitable[Page[CommentView]]) -> CommentConnection:
            return CommentConnection.of(await page)

        # Typed as the value: graphql-core awaits it (see PageFacts.or_load).
        return cast(CommentConnection, later(page))

    @strawberry.field(description="Who likes the post, newest first.")
    async def likers(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "UserConnection":
        page = await likes.likers(info.context, int(self.id), first, after)
        connection = UserConnection.of(page)
        assert connection is not None  # a page, never None
        return connection

    @classmethod
    def of(cls, post: PostView, facts: PageFacts = NO_FACTS) -> "Post":
        return cls(
            id=strawberry.ID(str(post.id)),
            body=post.body,
            created_at=post.created_at,
            client=post.client,
            author=User(id=strawberry.ID(post.author_id), facts=facts),
            facts=facts,
            media_ids=post.media,
        )


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo
    ranked_session_ended: bool = strawberry.field(
        description="RANKED: past the session's end, continued chronologically below it."
    )

    @classmethod
    def of(cls, page: Page[PostView], facts: PageFacts = NO_FACTS) -> "PostConnection":
        return cls(
            edges=[
                PostEdge(cursor=cursor, node=Post.of(node, facts)) for cursor, node in page.edges
            ],
            page_info=PageInfo.of(page),
            ranked_session_ended=page.ranked_session_ended,
        )


@strawberry.enum
class TimelineOrder(Enum):
    LATEST = "LATEST"
    RANKED = "RANKED"


@strawberry.type(description="Where the viewer has read their timeline up to.")
class TimelineMarker:
    cursor: str = strawberry.field(
        description="A LATEST cursor at the post: `before` it gives what came in since."
    )
    updated_at: datetime
    post_id: strawberry.Private[int]

    @strawberry.field(description="Null once deleted or no longer visible.")
    async def post(self, info: Info[Context, None]) -> Post | None:
        [found] = await queries.posts_by_id(info.context, [self.post_id])
        return None if found is None else Post.of(found)

    @classmethod
    def of(cls, ctx: Context, marker: StoredMarker) -> "TimelineMarker":
        return cls(
            cursor=timeline.marker_cursor(ctx, marker),
            updated_at=marker.updated_at,
            post_id=marker.post_id,
        )


@strawberry.type
class Comment:
    id: strawberry.ID
    body: str
    created_at: datetime
    author: User
    post_id: strawberry.Private[int]

    @strawberry.field
    async def post(self, info: Info[Context, None]) -> Post:
        found = await comments.post_of(info.context, self._view())
        return Post.of(found)

    def _view(self) -> CommentView:
        return CommentView(
            int(self.id), self.post_id, str(self.author.id), self.body, self.created_at
        )

    @classmethod
    def of(cls, comment: CommentView) -> "Comment":
        return cls(
            id=strawberry.ID(str(comment.id)),
            body=comment.body,
            created_at=comment.created_at,
            author=User(id=strawberry.ID(comment.author_id)),
            post_id=comment.post_id,
        )


@strawberry.type
class CommentEdge:
    cursor: str
    node: Comment


@strawberry.type
class CommentConnection:
    edges: list[CommentEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[CommentView]) -> "CommentConnection":
        return cls(
            edges=[
                CommentEdge(cursor=cursor, node=Comment.of(node)) for cursor, node in page.edges
            ],
            page_info=PageInfo.of(page),
        )


@strawberry.input
class AddCommentInput:
    post_id: strawberry.ID
    body: str
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Chosen by the client: a retry with the same key returns the first comment.",
    )


@strawberry.type
class AddCommentPayload:
    comment: Comment


@strawberry.type
class DeleteCommentPayload:
    deleted_comment_id: strawberry.ID


@strawberry.enum
class MediaStatus(Enum):
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


@strawberry.enum
class MediaSize(Enum):
    THUMBNAIL = "THUMBNAIL"  # at most 320 pixels a side
    LARGE = "LARGE"  # at most 1,600 pixels a side


_STATUS = {
    MediaState.PENDING: MediaStatus.PROCESSING,
    MediaState.PROCESSING: MediaStatus.PROCESSING,
    MediaState.READY: MediaStatus.READY,
    MediaState.FAILED: MediaStatus.FAILED,
}


@strawberry.type
class Media:
    id: strawberry.ID
    status: MediaStatus
    failure: str | None = strawberry.field(description="Why, when FAILED.")
    content_type: str | None = strawberry.field(description="What the URLs serve, once READY.")
    width: int | None = strawberry.field(description="Of the LARGE rendition, once READY.")
    height: int | None
    placeholder: str | None = strawberry.field(
        description="A BlurHash of the photo to show while it loads, once READY."
    )
    alt: str | None
    view: strawberry.Private[MediaView]
    # Signs its URLs: bound here, so `url` needs no Info (80 of it on a page).
    library: strawberry.Private[MediaLibrary]

    @strawberry.field(
        description="A signed GET URL, valid for minutes; null unless READY. The bucket "
        "is private: only this URL reaches the photo."
    )
    def url(self, size: MediaSize = MediaSize.LARGE) -> str | None:
        return media.url(self.library, self.view, StoredSize[size.value])

    @classmethod
    def of(cls, view: MediaView, library: MediaLibrary) -> "Media":
        return cls(
            id=strawberry.ID(view.id),
            status=_STATUS[view.state],
            failure=view.failure,
            content_type=view.content_type,
            width=view.width,
            height=view.height,
            placeholder=view.placeholder,
            alt=view.alt,
            view=view,
            library=library,
        )


@strawberry.input
class MediaInput:
    upload_id: strawberry.ID
    alt: str | None = strawberry.field(default=None, description="Text for who cannot see it.")


@strawberry.input
class CreatePostInput:
    body: str
    client: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Chosen by the client: a retry with the same key returns the first post.",
    )
    media: list[MediaInput] | None = strawberry.field(
        default=None,
        description=f"At most {MAX_MEDIA_PER_POST} of the viewer's unused uploads; "
        "the body may be empty when media is present.",
    )


@strawberry.input
class CreateUploadInput:
    content_type: str = strawberry.field(
        description="image/jpeg, image/png, image/webp or image/gif."
    )
    byte_size: int = strawberry.field(description="Exactly the bytes that will be PUT.")


@strawberry.type
class HttpHeader:
    name: str
    value: str


@strawberry.type
class Upload:
    id: strawberry.ID
    url: str = strawberry.field(description="PUT the bytes here, with these headers.")
    headers: list[HttpHeader]
    expires_at: datetime

    @classmethod
    def of(cls, ticket: UploadTicket) -> "Upload":
        return cls(
            id=strawberry.ID(ticket.id),
            url=ticket.url,
            headers=[HttpHeader(name=name, value=value) for name, value in ticket.headers],
            expires_at=ticket.expires_at,
        )


@strawberry.type
class CreateUploadPayload:
    upload: Upload


# List fields without a size argument, and the most items each returns: the
# query cost model multiplies what they select by this.
BOUNDED_LISTS = {"media": MAX_MEDIA_PER_POST, "headers": 2}


@strawberry.type
class CreatePostPayload:
    post: Post


@strawberry.type
class DeletePostPayload:
    deleted_post_id: strawberry.ID


@strawberry.enum
class NotificationKind(Enum):
    POST_LIKED = "POST_LIKED"
    POST_COMMENTED = "POST_COMMENTED"
    FRIEND_REQUEST_RECEIVED = "FRIEND_REQUEST_RECEIVED"
    FRIEND_REQUEST_ACCEPTED = "FRIEND_REQUEST_ACCEPTED"


@strawberry.type(
    description="Likes of one post, comments on one post, or one friend request: "
    "raised to the top and unread again when someone new acts."
)
class Notification:
    id: strawberry.ID
    kind: NotificationKind
    actor_count: int = strawberry.field(description="Distinct people behind it.")
    read: bool
    updated_at: datetime
    document: strawberry.Private[NotificationDocument]

    @strawberry.field(description="Newest first.")
    async def actors(self, info: Info[Context, None], first: int = 3) -> list[User]:
        found = await notifications.actors(info.context, self.document, first)
        return [User(id=strawberry.ID(actor)) for actor in found]

    @strawberry.field(description="POST_LIKED, POST_COMMENTED: the post (null once deleted).")
    async def post(self, info: Info[Context, None]) -> Post | None:
        found = await notifications.post(info.context, self.document)
        return None if found is None else Post.of(found)

    @strawberry.field(description="POST_COMMENTED: the newest comment.")
    async def comment(self, info: Info[Context, None]) -> Comment | None:
        found = await notifications.comment(info.context, self.document)
        return None if found is None else Comment.of(found)

    @classmethod
    def of(cls, notification: NotificationDocument) -> "Notification":
        return cls(
            id=strawberry.ID(notification_id(notification)),
            kind=NotificationKind(notification.kind.value),
            actor_count=notification.actor_count,
            read=notification.read,
            updated_at=notification.updated_at,
            document=notification,
        )


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[NotificationDocument]) -> "NotificationConnection":
        return cls(
            edges=[
                NotificationEdge(cursor=cursor, node=Notification.of(node))
                for cursor, node in page.edges
            ],
            page_info=PageInfo.of(page),
        )
