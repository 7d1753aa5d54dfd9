"""GraphQL object types: the public shape, kept apart from storage documents."""

from datetime import datetime
from typing import TypeVar

import strawberry
from strawberry.types import Info

from tidings.resolvers import queries
from tidings.resolvers.context import Context
from tidings.resolvers.pages import Page
from tidings.stores.posts import PostDocument

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


@strawberry.type
class User:
    id: strawberry.ID

    @strawberry.field
    async def friend_count(self, info: Info[Context, None]) -> int:
        return await queries.friend_count(info.context, self.id)

    @strawberry.field
    async def friends(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> "UserConnection":
        page = await queries.friends(info.context, self.id, first, after)
        return UserConnection(
            edges=[
                UserEdge(cursor=cursor, node=User(id=strawberry.ID(node)))
                for cursor, node in page.edges
            ],
            page_info=PageInfo.of(page),
        )


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo


@strawberry.type
class Post:
    id: strawberry.ID
    body: str
    created_at: datetime
    client: str | None
    # A plain value, not a resolver: one field of twenty posts on every page.
    author: User

    @classmethod
    def of(cls, document: PostDocument) -> "Post":
        return cls(
            id=strawberry.ID(str(document.id)),
            body=document.body,
            created_at=document.created_at,
            client=document.client,
            author=User(id=strawberry.ID(document.author_id)),
        )


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[PostDocument]) -> "PostConnection":
        return cls(
            edges=[PostEdge(cursor=cursor, node=Post.of(node)) for cursor, node in page.edges],
            page_info=PageInfo.of(page),
        )


@strawberry.input
class CreatePostInput:
    body: str
    client: str | None = None


@strawberry.type
class CreatePostPayload:
    post: Post


@strawberry.type
class DeletePostPayload:
    deleted_post_id: strawberry.ID
