"""Writing a notification and telling its recipient's live subscriptions: what the
notifier (likes, comments) and friend requests (in the API) share."""

from redis.asyncio import Redis

from tidings.feed.keys import Keys
from tidings.stores.notifications import NotificationDocument, NotificationStore


class NotificationWriter:
    def __init__(self, store: NotificationStore, redis: "Redis", keys: Keys) -> None:
        self._store = store
        self._redis = redis
        self._keys = keys

    async def put(self, notification: NotificationDocument) -> None:
        await self._store.put(notification)
        # Only the key: each subscriber reads the notification as it is when it
        # arrives, so a burst of updates shows the latest.
        await self._redis.publish(
            self._keys.notification_channel(notification.recipient), notification.key
        )

    async def remove(self, recipient: str, key: str) -> None:
        await self._store.remove(recipient, key)

    async def forget_post(self, post_id: int) -> None:
        await self._store.forget_post(post_id)
