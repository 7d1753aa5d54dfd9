"""Run as a child process: accept one post, then die by SIGKILL right after the
MongoDB insert and before the stream append, exactly where a dual write breaks."""

import asyncio
import os
import signal
import sys

from tidings.app import components
from tidings.app.settings import Settings
from tidings.app.stores import open_stores
from tidings.feed.keys import Keys
from tidings.feed.queue import FanoutQueue


async def die(*_args: object, **_kwargs: object) -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


async def main(author_id: str) -> None:
    FanoutQueue.enqueue = die  # type: ignore[method-assign]
    settings = Settings()
    async with open_stores(settings) as stores:
        posting = await components.post_service(stores, settings, Keys(settings.namespace))
        await posting.create(author_id, "written just before a crash", None)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
