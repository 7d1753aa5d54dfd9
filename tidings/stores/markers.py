"""Where each user has read their timeline up to, in MongoDB: one document per user,
kept across devices. It only moves forward, in one conditional write, so a stale
device cannot move it back however the writes race."""

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from tidings.stores.breaker import Breaker

TIMELINE_MARKERS = "timeline_markers"


@dataclass(frozen=True, slots=True)
class TimelineMarker:
    post_id: int
    updated_at: datetime


class MarkerStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]], breaker: Breaker) -> None:
        self._markers = database.get_collection(TIMELINE_MARKERS)
        self._breaker = breaker

    async def get(self, user_id: str) -> TimelineMarker | None:
        found = await self._breaker.call(self._markers.find_one({"_id": user_id}))
        return None if found is None else TimelineMarker(found["post_id"], found["updated_at"])

    async def advance(self, user_id: str, post_id: int, now: datetime) -> TimelineMarker:
        """Moves the marker to `post_id` if that is newer; returns the marker as it is."""
        # A duplicate key: at or past it already, unchanged.
        with contextlib.suppress(DuplicateKeyError):
            await self._breaker.call(
                self._markers.update_one(
                    {"_id": user_id, "post_id": {"$lt": post_id}},
                    {"$set": {"post_id": post_id, "updated_at": now}},
                    upsert=True,
                )
            )
        marker = await self.get(user_id)
        assert marker is not None  # written above, or there before
        return marker
