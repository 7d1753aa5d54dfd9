"""TTL indexes: documents MongoDB removes on its own once a date field is old enough."""

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure


async def expire_after(
    collection: AsyncCollection[dict[str, Any]], field: str, name: str, seconds: int
) -> None:
    """Documents go `seconds` after `field`. A changed setting is applied in place
    (MongoDB refuses to build the same index with another expiry)."""
    try:
        await collection.create_index(field, name=name, expireAfterSeconds=seconds)
    except OperationFailure:
        await collection.database.command(
            "collMod", collection.name, index={"name": name, "expireAfterSeconds": seconds}
        )
