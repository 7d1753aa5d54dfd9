"""Parts that more than one role builds the same way from the stores and settings."""

from datetime import timedelta

from tidings.app.settings import Settings
from tidings.app.stores import Stores
from tidings.feed.affinity import Affinity
from tidings.feed.celebrities import Celebrities
from tidings.feed.changed_groups import ChangedGroups
from tidings.feed.comments import Comments
from tidings.feed.friends import Friendships
from tidings.feed.heat import PostHeat
from tidings.feed.home import HomeTimeline
from tidings.feed.ids import NODES, PostIdGenerator
from tidings.feed.interactions import Interactions
from tidings.feed.keys import Keys
from tidings.feed.likes import Likes
from tidings.feed.live import LiveHub
from tidings.feed.media import MediaLibrary, UploadQuota
from tidings.feed.notification_writer import NotificationWriter
from tidings.feed.notifications import Notifications
from tidings.feed.people import People
from tidings.feed.posts import PostService
from tidings.feed.queue import FanoutQueue
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.ties import TieCache
from tidings.feed.timeline import TimelineStore

# A day past the activity window, so a returning user's last-read time is still there.
_KEEP_SLACK_SECONDS = 86_400


def timeline_store(stores: Stores, settings: Settings, keys: Keys) -> TimelineStore:
    return TimelineStore(
        stores.redis,
        keys,
        settings.timeline_max,
        settings.active_days * 86_400 + _KEEP_SLACK_SECONDS,
    )


def celebrities(stores: Stores, settings: Settings, keys: Keys) -> Celebrities:
    return Celebrities(
        stores.redis,
        keys,
        stores.graph,
        settings.celebrity_threshold,
        settings.celebrity_cache_seconds,
        demote_below=settings.celebrity_demote_below,
    )


def fanout_queue(stores: Stores, settings: Settings, keys: Keys) -> FanoutQueue:
    return FanoutQueue(stores.redis, keys, settings.fanout_max_attempts)


def home_timeline(
    stores: Stores,
    settings: Settings,
    keys: Keys,
    *,
    celebrity_cache: Celebrities | None = None,
) -> HomeTimeline:
    return HomeTimeline(
        timeline_store(stores, settings, keys),
        stores.graph,
        celebrity_cache or celebrities(stores, settings, keys),
        timeline_max=settings.timeline_max,
        active_days=settings.active_days,
        retention_days=settings.retention_days,
        rebuild_lock_ms=settings.rebuild_lock_ms,
        history_wait_seconds=settings.timeline_history_wait_ms / 1000,
    )


async def lease_id_node(stores: Stores, keys: Keys) -> int:
    """A node number for post ids that no other live process holds (for up to NODES)."""
    return int(await stores.redis.incr(keys.id_node_counter)) % NODES


async def post_service(
    stores: Stores, settings: Settings, keys: Keys, media: MediaLibrary | None = None
) -> PostService:
    return PostService(
        stores.posts,
        fanout_queue(stores, settings, keys),
        PostIdGenerator(await lease_id_node(stores, keys)),
        RateLimiter(
            stores.redis, keys, "posts", settings.post_rate, settings.post_rate_window_seconds
        ),
        deleting=RateLimiter(
            stores.redis, keys, "deletes", settings.delete_rate, settings.delete_rate_window_seconds
        ),
        fanout_deadline=timedelta(seconds=settings.outbox_deadline_seconds),
        media=media or media_library(stores, settings, keys),
    )


def media_library(stores: Stores, settings: Settings, keys: Keys) -> MediaLibrary:
    return MediaLibrary(
        stores.media,
        stores.objects,
        UploadQuota(stores.redis, keys, settings.upload_bytes_per_day),
        RateLimiter(
            stores.redis, keys, "uploads", settings.upload_rate, settings.upload_rate_window_seconds
        ),
        max_bytes=settings.upload_max_bytes,
        upload_seconds=settings.upload_url_seconds,
        url_seconds=settings.media_url_seconds,
        keep_seconds=settings.upload_keep_seconds,
        retention_days=settings.retention_days,
        url_cache_entries=settings.media_url_cache_entries,
    )


def tie_cache(stores: Stores, settings: Settings, keys: Keys) -> TieCache:
    return TieCache(stores.redis, keys, stores.graph, keep_seconds=settings.ties_cache_seconds)


def friendships(
    stores: Stores,
    settings: Settings,
    keys: Keys,
    celebrity_cache: Celebrities,
    people: People | None = None,
    notifications: Notifications | None = None,
) -> Friendships:
    return Friendships(
        stores.graph,
        timeline_store(stores, settings, keys),
        stores.posts,
        celebrity_cache,
        fanout_queue(stores, settings, keys),
        tie_cache(stores, settings, keys),
        friending=RateLimiter(
            stores.redis,
            keys,
            "friend requests",
            settings.friend_rate,
            settings.friend_rate_window_seconds,
        ),
        blocking=RateLimiter(
            stores.redis,
            keys,
            "blocks and mutes",
            settings.block_rate,
            settings.block_rate_window_seconds,
        ),
        max_pending_requests=settings.max_pending_friend_requests,
        backfill_posts=settings.backfill_posts,
        timeline_max=settings.timeline_max,
        people=people,
        notifications=notifications,
    )


def changed_groups(stores: Stores, settings: Settings, keys: Keys) -> ChangedGroups:
    return ChangedGroups(stores.redis, keys, claim_ms=int(settings.notifier_claim_seconds * 1000))


def notification_writer(stores: Stores, keys: Keys) -> NotificationWriter:
    return NotificationWriter(stores.notifications, stores.redis, keys)


def notifications(stores: Stores, settings: Settings, keys: Keys, hub: LiveHub) -> Notifications:
    return Notifications(
        stores.notifications,
        notification_writer(stores, keys),
        hub,
        stores.comments,
        stores.graph,
        RateLimiter(
            stores.redis,
            keys,
            "notification reads",
            settings.mark_read_rate,
            settings.mark_read_rate_window_seconds,
        ),
    )


def interactions(
    stores: Stores, settings: Settings, keys: Keys, affinity: Affinity
) -> Interactions:
    return Interactions(
        PostHeat(stores.redis, keys, hot_per_second=settings.hot_post_changes_per_second),
        affinity,
        changed_groups(stores, settings, keys),
    )


def likes(stores: Stores, settings: Settings, keys: Keys, interactions: Interactions) -> Likes:
    return Likes(
        stores.likes,
        RateLimiter(
            stores.redis, keys, "likes", settings.like_rate, settings.like_rate_window_seconds
        ),
        interactions,
    )


async def comments(
    stores: Stores, settings: Settings, keys: Keys, interactions: Interactions
) -> Comments:
    return Comments(
        stores.comments,
        stores.graph,
        # Comment ids are time-ordered like post ids, from a node of their own.
        PostIdGenerator(await lease_id_node(stores, keys)),
        RateLimiter(
            stores.redis,
            keys,
            "comments",
            settings.comment_rate,
            settings.comment_rate_window_seconds,
        ),
        interactions,
    )
