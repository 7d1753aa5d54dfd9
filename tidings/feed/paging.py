"""Pages of a keyset-paged list, and the feed orders that produce pages of posts."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from tidings.feed.cursor import CursorKind
from tidings.feed.errors import BadUserInput
from tidings.feed.lookup import ReadLookup
from tidings.feed.read_model import PostView

MAX_PAGE = 100

Item = TypeVar("Item")
Position = TypeVar("Position")


def check_page_size(first: int, argument: str = "first") -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"`{argument}` must be between 1 and {MAX_PAGE}.", field=argument)
    return first


def overfetched(found: Sequence[Item], first: int) -> tuple[list[Item], bool]:
    """A page from a list fetched one item longer than the page (`first + 1`): the
    page's items, and whether the extra item says a next page exists."""
    return list(found[:first]), len(found) > first


@dataclass(frozen=True, slots=True)
class FeedPage(Generic[Position]):
    """Posts in the order shown, each with its position in its feed order."""

    edges: list[tuple[Position, PostView]]
    has_next: bool
    # Where the next page starts. The last edge's position unless the order left
    # posts out of the page (deleted, hidden) or reordered it: then the position
    # just past everything this page considered, so paging never repeats or skips.
    end: Position | None
    # A ranked page past its session's end: continued chronologically.
    ranked_session_ended: bool = False


class FeedOrder(Protocol[Position]):
    """One way to order a home timeline; it owns the kind of cursor it pages with."""

    @property
    def cursor(self) -> CursorKind[Position]: ...

    async def page(
        self, viewer_id: str, after: Position | None, first: int, lookup: ReadLookup
    ) -> FeedPage[Position]: ...
