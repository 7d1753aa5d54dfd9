"""What the benchmark drives in-process, built as the roles build them."""

from dataclasses import dataclass

from tidings.app import components
from tidings.app.settings import Settings
from tidings.app.stores import Stores, prepare_schemas
from tidings.app.worker import build_fanout
from tidings.feed.fanout import Fanout
from tidings.feed.home import HomeTimeline
from tidings.feed.keys import Keys
from tidings.feed.posts import PostService
from tidings.feed.queue import FanoutQueue
from tidings.feed.timeline import TimelineStore


@dataclass
class Parts:
    """What the benchmark drives in-process, built as the roles build them."""

    stores: Stores
    settings: Settings
    keys: Keys
    timelines: TimelineStore
    queue: FanoutQueue
    home: HomeTimeline
    posting: PostService
    fanout: Fanout

    @classmethod
    async def build(cls, stores: Stores, settings: Settings) -> "Parts":
        await prepare_schemas(stores, settings)
        keys = Keys(settings.namespace)
        queue = components.fanout_queue(stores, settings, keys)
        await queue.ensure_group()
        return cls(
            stores=stores,
            settings=settings,
            keys=keys,
            timelines=components.timeline_store(stores, settings, keys),
            queue=queue,
            home=components.home_timeline(stores, settings, keys),
            posting=await components.post_service(stores, settings, keys),
            fanout=build_fanout(stores, settings, keys),
        )


def scratch_key(keys: Keys, name: str) -> str:
    """Keys a scenario creates and deletes within one run, in its own namespace."""
    return f"{keys.namespace}:bench-scratch:{name}"
