"""Ceiling (a) of `tidings bench`: Strawberry serving 20 static posts, with the same
fields as a timeline page (and, for the social page, counts, the viewer's like and
the first comments; for the media page, four photos with their URLs), through
the same Starlette + Strawberry + uvicorn stack.
Nothing is stored or looked up, so no timeline read can be faster than this.

The types mirror the response's shape, not `tidings.schema.types`, on purpose:
every field here is a plain value, so the ceiling carries none of the service's
own resolver costs (an async resolver per field, DataLoaders) and the ratio to it
shows them instead of hiding them."""

from datetime import UTC, datetime
from enum import Enum

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.type
class User:
    id: strawberry.ID
    friend_count: int


@strawberry.type
class Comment:
    id: strawberry.ID
    body: str
    created_at: datetime
    author: User


@strawberry.type
class CommentEdge:
    cursor: str
    node: Comment


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CommentConnection:
    edges: list[CommentEdge]
    page_info: PageInfo


@strawberry.enum
class MediaSize(Enum):
    THUMBNAIL = "THUMBNAIL"
    LARGE = "LARGE"


@strawberry.type
class Media:
    id: strawberry.ID
    status: str
    content_type: str | None
    width: int | None
    height: int | None
    placeholder: str | None
    alt: str | None

    @strawberry.field
    def url(self, size: MediaSize = MediaSize.LARGE) -> str | None:
        return _URL + size.value


@strawberry.type
class Post:
    id: strawberry.ID
    body: str
    created_at: datetime
    client: str | None
    author: User
    like_count: int
    viewer_has_liked: bool
    comment_count: int
    first_comments: strawberry.Private[CommentConnection]
    media: list[Media]

    @strawberry.field
    def comments(self, first: int = 20, after: str | None = None) -> CommentConnection:
        return self.first_comments


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo


# A signed URL's length: what a client receives per photo and size.
_URL = "http://127.0.0.1:7070/tidings-media/tidings/AAAAAAAAAAAAAAAAAAAAAA/large?" + "X" * 300


def _page() -> PostConnection:
    now = datetime.now(UTC)
    comments = CommentConnection(
        edges=[
            CommentEdge(
                cursor=f"AAAAAAAAAAAAAAAAAAAAAAAA{i:03d}",
                node=Comment(
                    id=strawberry.ID(str(116_600_970_290_912 + i)),
                    body="y" * 60,
                    created_at=now,
                    author=User(id=strawberry.ID(f"reader{i}"), friend_count=200),
                ),
            )
            for i in range(2)
        ],
        page_info=PageInfo(has_next_page=True, end_cursor="y"),
    )
    photos = [
        Media(
            id=strawberry.ID(f"AAAAAAAAAAAAAAAAAAAAA{i}"),
            status="READY",
            content_type="image/jpeg",
            width=1600,
            height=1200,
            placeholder="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            alt="a photo",
        )
        for i in range(4)
    ]
    edges = [
        PostEdge(
            cursor=f"AAAAAAAAAAAAAAAAAAAAAAAA{i:03d}",
            node=Post(
                id=strawberry.ID(str(116_600_970_190_912 + i)),
                body="x" * 80,
                created_at=now,
                client=None,
                author=User(id=strawberry.ID(f"author{i}"), friend_count=200),
                like_count=5,
                viewer_has_liked=i % 2 == 0,
                comment_count=3,
                first_comments=comments,
                media=photos,
            ),
        )
        for i in range(20)
    ]
    return PostConnection(edges=edges, page_info=PageInfo(has_next_page=True, end_cursor="x"))


@strawberry.type
class Query:
    @strawberry.field
    async def timeline(self, first: int = 20, after: str | None = None) -> PostConnection:
        return _page()


def create_app() -> Starlette:
    schema = strawberry.Schema(
        query=Query,
        extensions=[lambda: ParserCache(maxsize=1_000), lambda: ValidationCache(maxsize=1_000)],
    )
    graphql = GraphQL[None, None](schema, graphql_ide=None)
    return Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])])
