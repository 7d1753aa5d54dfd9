"""A page of a keyset-paginated list, before it becomes a GraphQL connection."""

from dataclasses import dataclass
from typing import Generic, TypeVar

Node = TypeVar("Node")


@dataclass(frozen=True, slots=True)
class Page(Generic[Node]):
    edges: list[tuple[str, Node]]
    has_next: bool
    has_previous: bool
