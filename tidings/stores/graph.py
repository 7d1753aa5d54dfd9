"""The friend graph: one interface, one adapter per graph database."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UserSummary:
    id: str
    friend_count: int


class RequestOutcome(StrEnum):
    SENT = "sent"  # recorded; they have to ask back
    PENDING = "pending"  # already asked, nothing changed
    ACCEPTED = "accepted"  # they had asked: friends now
    FRIENDS = "friends"  # already friends, nothing changed
    BLOCKED = "blocked"  # one side blocked the other: refused, nothing stored
    TOO_MANY = "too_many"  # too many of the asker's requests are pending: refused


@dataclass(frozen=True, slots=True)
class Relation:
    """How a viewer stands with another user, as far as the viewer may know."""

    friends: bool = False
    muted: bool = False  # the viewer muted them
    blocked: bool = False  # the viewer blocked them (a block the other way is not told)
    sent: bool = False  # the viewer asked them to be friends
    received: bool = False  # they asked the viewer


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom an author's new post is pushed to, as fan-out asks for many authors at once."""

    celebrity: bool
    # Friends who have not muted the author; None when the author has more friends
    # than were asked for (fan-out then walks them in chunks).
    readers: list[str] | None


class CelebrityChange(StrEnum):
    PROMOTED = "promoted"
    DEMOTED = "demoted"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Someone the user may know, and how many friends they share (of those walked)."""

    id: str
    mutual_friends: int


class RelationList(StrEnum):
    INCOMING_REQUESTS = "incoming_requests"
    OUTGOING_REQUESTS = "outgoing_requests"
    BLOCKED = "blocked"
    MUTED = "muted"


# A position in a relation list: when the tie was made (ms) and the other user's id.
RelationPosition = tuple[int, str]


class FriendGraph(Protocol):
    """Friendships by consent, requests, blocks and mutes between user ids.

    Every method is idempotent. Users befriend through `request_friendship` from
    both sides; `add_friendship`, `befriend_many` and `create_friendships` skip
    consent and exist for tools (seeding, benchmarks, test set-up) only.
    """

    async def ensure_schema(self) -> None: ...

    async def ensure_user(self, user_id: str) -> None: ...

    async def request_friendship(
        self, user_id: str, other_id: str, *, max_pending: int, now_ms: int
    ) -> RequestOutcome:
        """The user asks to be friends; see RequestOutcome for what can happen."""
        ...

    async def block(self, user_id: str, other_id: str, *, now_ms: int) -> bool:
        """Ends every friendship and request between them; True if they were friends."""
        ...

    async def unblock(self, user_id: str, other_id: str) -> None: ...

    async def mute(self, user_id: str, other_id: str, *, now_ms: int) -> None: ...

    async def unmute(self, user_id: str, other_id: str) -> None: ...

    async def relations(self, viewer_id: str, user_ids: Sequence[str]) -> list[Relation]:
        """One Relation per id asked, in order, in one round trip."""
        ...

    async def relations_page(
        self, user_id: str, kind: RelationList, after: RelationPosition | None, limit: int
    ) -> list[RelationPosition]:
        """The user's list of this kind, newest first, strictly after `after`."""
        ...

    async def muters(self, author_id: str, limit: int) -> list[str]:
        """Up to `limit` users who muted the author."""
        ...

    async def audiences(self, author_ids: Sequence[str], limit: int) -> dict[str, Audience]:
        """For each author in the graph, in one query: celebrity or not, and, if not
        and they have at most `limit` friends, those who have not muted them."""
        ...

    async def blocked_either_way(self, user_id: str, other_ids: Sequence[str]) -> set[str]:
        """Those of `other_ids` whom the user blocked or who blocked the user."""
        ...

    async def add_friendship(self, user_id: str, friend_id: str) -> bool:
        """Tools only: befriends both ways without asking; True if they were not friends."""
        ...

    async def befriend_many(self, user_id: str, friend_ids: Sequence[str]) -> None:
        """Bulk loading: befriends the user with each of these, in one round trip."""
        ...

    async def ensure_users(self, user_ids: Sequence[str]) -> None:
        """Bulk loading: makes these users known, in one round trip."""
        ...

    async def create_friendships(self, groups: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Bulk loading: befriends each user with each of its listed existing users, in
        one round trip.

        None of them may be friends yet (nor repeat): this creates, it does not merge.
        """
        ...

    async def remove_friendship(self, user_id: str, friend_id: str) -> bool:
        """Ends their friendship, withdraws or declines any request between them.

        True if they were friends before.
        """
        ...

    async def friends_page(self, user_id: str, after: str | None, limit: int) -> list[str]:
        """Friend ids in ascending order, strictly after `after`."""
        ...

    async def celebrity_friends(self, user_id: str) -> list[str]:
        """The user's friends, unmuted, who are marked as celebrities."""
        ...

    async def suggestions(
        self, user_id: str, limit: int, *, friends_walked: int, per_friend: int
    ) -> list[Suggestion]:
        """Friends of friends, most mutual friends first (then by id), excluding the
        user, their friends, requests and blocks either way; the walk visits at most
        `friends_walked` friends and `per_friend` of each one's friends."""
        ...

    async def is_celebrity(self, user_id: str) -> bool: ...

    async def update_celebrity(
        self, user_id: str, *, promote_at: int, demote_below: int
    ) -> CelebrityChange:
        """Marks the user at `promote_at` friends, unmarks below `demote_below`.

        Costs at most `promote_at` steps, whatever the friend count.
        """
        ...

    async def mark_celebrities(self, user_ids: Sequence[str]) -> None:
        """Tools only: marks users known to be over the threshold after a bulk load."""
        ...

    async def user_summaries(self, user_ids: Sequence[str]) -> list[UserSummary | None]:
        """One summary per id asked, in order; None for a user the graph has never seen."""
        ...

    async def drop(self) -> None:
        """Deletes the whole graph: for tests and tear-down only."""
        ...

    async def close(self) -> None: ...
