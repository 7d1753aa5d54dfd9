"""A page of a keyset-paginated list, before it becomes a GraphQL connection."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tidings.feed.cursor import CursorCodec, CursorKind
from tidings.feed.paging import FeedOrder
from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context

Node = TypeVar("Node")
Item = TypeVar("Item")
Position = TypeVar("Position")


@dataclass(frozen=True, slots=True)
class Page(Generic[Node]):
    edges: list[tuple[str, Node]]
    has_next: bool
    has_previous: bool
    # Where the next page starts. The last edge's cursor, unless the order left
    # posts out of the page or reordered it (see FeedPage.end).
    end_cursor: str | None = None
    # A ranked page past its session's end, continued chronologically.
    ranked_session_ended: bool = False

    @classmethod
    def of(
        cls,
        cursors: CursorCodec,
        kind: CursorKind[Position],
        found: tuple[list[Item], bool],
        *,
        position: Callable[[Item], Position],
        node: Callable[[Item], Node],
        after: str | None,
    ) -> "Page[Node]":
        """A page from a list's items and whether more follow (`paging.overfetched`)."""
        items, has_next = found
        edges = [(cursors.encode(kind, position(item)), node(item)) for item in items]
        return cls(edges, has_next=has_next, has_previous=after is not None)


async def feed_page(
    ctx: Context, order: FeedOrder[Position], first: int, after: str | None
) -> Page[PostView]:
    """The viewer's page of a feed order, under that order's cursors."""
    viewer_id = ctx.require_viewer()
    cursors = ctx.backends.cursors
    start = cursors.decode_optional(order.cursor, after)
    page = await order.page(viewer_id, start, first, ctx.loaders)
    edges = [(cursors.encode(order.cursor, position), post) for position, post in page.edges]
    end = None if page.end is None else cursors.encode(order.cursor, page.end)
    return Page(
        edges,
        has_next=page.has_next,
        has_previous=after is not None,
        end_cursor=end,
        ranked_session_ended=page.ranked_session_ended,
    )
