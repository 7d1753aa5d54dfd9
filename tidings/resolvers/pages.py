"""A page of a keyset-paginated list, before it becomes a GraphQL connection."""

from dataclasses import dataclass
from typing import Generic, TypeVar

Node = TypeVar("Node")


@dataclass(frozen=True, slots=True)
class Page(Generic[Node]):
    edges: list[tuple[str, Node]]
    has_next: bool
    has_previous: bool
    # Where the next page starts. The last edge's cursor, unless ranking reordered
    # the page: then the cursor of its oldest post, so paging stays keyset-exact.
    end_cursor: str | None = None
