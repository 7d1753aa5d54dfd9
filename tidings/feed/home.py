"""Reading a home timeline, one keyset page at a time."""

from dataclasses import dataclass

from tidings.feed.errors import BadUserInput
from tidings.feed.timeline import TimelineStore

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class TimelinePage:
    post_ids: list[int]
    has_next: bool


def check_page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE}.", field="first")
    return first


async def home_page(
    timelines: TimelineStore, user_id: str, before: int | None, first: int
) -> TimelinePage:
    # One extra id tells whether another page follows, without a second query.
    ids = await timelines.page(user_id, before, check_page_size(first) + 1)
    return TimelinePage(ids[:first], len(ids) > first)
