"""Per-post counts kept beside what they count, spread over shard documents when hot.

A count is the sum of up to `SHARDS` documents of one collection. A change to a
post that is hot right now (the caller says so: see feed/heat.py) lands on the
shard of the user who made it, so thousands of changes a second on a celebrity's
post update many documents, not one; any other change lands on shard 0, so most
posts' counts are one document and a page's counts are one small query. Any
shard may take any change: the sum is the count. It moves only by what an insert
or a delete actually changed; `recount` sets it to the truth where a crash
between the two writes left drift.
"""

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from tidings.stores.breaker import Breaker

SHARDS = 16


def _shard(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % SHARDS


class ShardedCounts:
    def __init__(self, collection: AsyncCollection[dict[str, Any]], breaker: Breaker) -> None:
        self._counts = collection
        self._breaker = breaker

    async def ensure_indexes(self) -> None:
        await self._counts.create_index("post_id", name="post")

    async def change(self, post_id: int, user_id: str, by: int, *, spread: bool = False) -> None:
        shard = _shard(user_id) if spread else 0
        await self._breaker.call(
            self._counts.update_one(
                {"_id": f"{post_id}:{shard}"},
                {"$inc": {"n": by}, "$setOnInsert": {"post_id": post_id}},
                upsert=True,
            )
        )

    async def totals(self, post_ids: Sequence[int]) -> dict[int, int]:
        """Each post's count (0 for none), in one round trip."""
        found = dict.fromkeys(post_ids, 0)
        if not post_ids:
            return found
        wanted = {"post_id": {"$in": list(set(post_ids))}}
        cursor = self._counts.find(wanted, {"post_id": 1, "n": 1})
        for shard in await self._breaker.call(cursor.to_list()):
            found[shard["post_id"]] += int(shard["n"])
        return found

    async def forget(self, post_id: int) -> None:
        await self._breaker.call(self._counts.delete_many({"post_id": post_id}))

    async def recount(self, actual: Mapping[int, int]) -> dict[int, tuple[int, int]]:
        """Sets every count to `actual` (post id -> the true count, absent for 0);
        returns the posts whose stored count had drifted, with (stored, actual)."""
        stored: dict[int, int] = {}
        async for shard in self._counts.find({}, {"post_id": 1, "n": 1}):
            stored[shard["post_id"]] = stored.get(shard["post_id"], 0) + int(shard["n"])
        drifted = {
            post_id: (stored.get(post_id, 0), actual.get(post_id, 0))
            for post_id in set(actual) | set(stored)
            if stored.get(post_id, 0) != actual.get(post_id, 0)
        }
        for post_id, (_stored, true) in drifted.items():
            # The whole count on one shard; the others emptied.
            await self._counts.delete_many({"post_id": post_id})
            if true:
                await self._counts.insert_one(
                    {"_id": f"{post_id}:0", "post_id": post_id, "n": true}
                )
        return drifted


async def counts_by_post(collection: AsyncCollection[dict[str, Any]]) -> dict[int, int]:
    """How many documents of `collection` each post has: the truth a recount sets."""
    found: dict[int, int] = {}
    async for row in await collection.aggregate(
        [{"$group": {"_id": "$post_id", "n": {"$sum": 1}}}]
    ):
        found[row["_id"]] = int(row["n"])
    return found
