"""Ceiling (a) of `tidings bench`: Tidings' own GraphQL types serving 20 posts held in
memory, through the same Starlette + Strawberry + uvicorn stack. Every resolver runs
as in the API, but no store is asked anything, so no timeline read can be faster."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

from tidings.resolvers.context import Context
from tidings.resolvers.loaders import Loaders, RecentKey
from tidings.resolvers.pages import Page
from tidings.schema.types import PostConnection
from tidings.stores.graph import UserSummary
from tidings.stores.posts import PostDocument

_FIRST_ID = 116_600_970_190_912


def _page() -> Page[PostDocument]:
    now = datetime.now(UTC)
    posts = [PostDocument(_FIRST_ID - i, f"author{i}", "x" * 80, now) for i in range(20)]
    edges = [(f"AAAAAAAAAAAAAAAAAAAAAAAA{i:03d}", post) for i, post in enumerate(posts)]
    return Page(edges, has_next=True, has_previous=False)


async def _users(ids: Sequence[str]) -> list[UserSummary | None]:
    return [UserSummary(user_id, 200) for user_id in ids]


async def _nothing(keys: Sequence[Any]) -> list[Any]:
    raise AssertionError("the ceiling looks nothing up")


@strawberry.type
class Query:
    @strawberry.field
    async def timeline(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> PostConnection:
        return PostConnection.of(_page())


class StaticGraphQL(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        loaders = Loaders(
            by_id=DataLoader[int, PostDocument | None](load_fn=_nothing),
            users=DataLoader(load_fn=_users),
            by_authors=DataLoader[RecentKey, list[PostDocument]](load_fn=_nothing),
        )
        # No use-case is reached: the resolvers of these types only read the loaders.
        return Context(cast(Any, None), loaders, "bench", None)


def create_app() -> Starlette:
    schema = strawberry.Schema(
        query=Query,
        extensions=[lambda: ParserCache(maxsize=1_000), lambda: ValidationCache(maxsize=1_000)],
    )
    graphql = StaticGraphQL(schema, graphql_ide=None)
    return Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])])
