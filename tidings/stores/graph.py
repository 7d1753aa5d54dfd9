"""The friend graph: one interface, one adapter per graph database."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UserSummary:
    id: str
    friend_count: int


class FriendGraph(Protocol):
    """Mutual friendships between user ids. Every method is idempotent."""

    async def ensure_schema(self) -> None: ...

    async def ensure_user(self, user_id: str) -> None: ...

    async def add_friendship(self, user_id: str, friend_id: str) -> bool:
        """Befriends both ways; True if they were not friends before."""
        ...

    async def befriend_many(self, user_id: str, friend_ids: Sequence[str]) -> None:
        """Bulk loading: befriends the user with each of these, in one round trip."""
        ...

    async def ensure_users(self, user_ids: Sequence[str]) -> None:
        """Bulk loading: makes these users known, in one round trip."""
        ...

    async def create_friendships(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Bulk loading: befriends each pair of existing users, in one round trip.

        The pairs must not be friends yet (nor repeat): this creates, it does not merge.
        """
        ...

    async def remove_friendship(self, user_id: str, friend_id: str) -> bool:
        """True if they were friends before."""
        ...

    async def friends_page(self, user_id: str, after: str | None, limit: int) -> list[str]:
        """Friend ids in ascending order, strictly after `after`."""
        ...

    async def friends_with_at_least(self, user_id: str, min_friends: int) -> list[str]:
        """The user's friends who themselves have at least `min_friends` friends."""
        ...

    async def count_friends_up_to(self, user_id: str, limit: int) -> int:
        """min(friend count, limit), at a cost bounded by `limit`, not by the friend count."""
        ...

    async def user_summaries(self, user_ids: Sequence[str]) -> list[UserSummary | None]:
        """One summary per id asked, in order; None for a user the graph has never seen."""
        ...

    async def drop(self) -> None:
        """Deletes the whole graph: for tests and tear-down only."""
        ...

    async def close(self) -> None: ...
