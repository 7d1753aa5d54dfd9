"""The worker's media tasks: turning attached uploads into renditions, and
sweeping away what nothing refers to any more.

Processing runs beside fan-out in the worker process, never in its way: images
are decoded on threads (Pillow releases the GIL while it decodes, resizes and
encodes), at most `concurrency` at once, and the queue is the media records
themselves (stores/media.py). A record is claimed with a lease; a worker that
dies mid-image leaves it to be claimed again, and a photo that failed three
claims is FAILED. Every step may run twice: renditions are overwritten, and
settling only moves a record that is still processing.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tidings.feed import images
from tidings.feed.media import MediaSize, object_names, original_name, rendition_name
from tidings.stores.breaker import StoreUnavailable
from tidings.stores.media import MediaDocument, MediaStore, Rendition
from tidings.stores.objects import ObjectMissing, ObjectStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
_SWEEP_BATCH = 500


def _now() -> datetime:
    return datetime.now(UTC)


class MediaProcessor:
    def __init__(
        self,
        store: MediaStore,
        objects: ObjectStore,
        *,
        concurrency: int,
        claim_seconds: float,
        poll_seconds: float,
        sweep_seconds: float,
        stray_seconds: int,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._objects = objects
        self._concurrency = concurrency
        self._claim = timedelta(seconds=claim_seconds)
        self._poll = poll_seconds
        self._sweep_every = sweep_seconds
        self._stray_age = timedelta(seconds=stray_seconds)
        self._clock = clock
        # Listing the bucket costs a call per 1,000 objects: done at most this
        # often, not at every sweep.
        self._list_every = max(self._stray_age, timedelta(hours=1))
        self._listed_at: datetime | None = None
        self.processed = 0
        self.failed = 0
        self.swept = 0

    async def run(self, stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as tasks:
            for number in range(self._concurrency):
                tasks.create_task(self._process_until(stop), name=f"media-{number}")
            tasks.create_task(self._sweep_until(stop), name="media-sweep")

    async def _process_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await self.process_next()
            except StoreUnavailable:
                worked = False
            except Exception:
                log.exception("media processing failed; the record is claimed again later")
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll)

    async def _sweep_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except StoreUnavailable:
                log.warning("media sweep postponed: a store is down")
            except Exception:
                log.exception("media sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._sweep_every)

    async def process_next(self) -> bool:
        """Processes the photo that waited longest; False if none waits."""
        now = self._clock()
        media = await self._store.claim(now, now + self._claim)
        if media is None:
            return False
        if media.attempts > MAX_ATTEMPTS:
            await self._settle(media, None, "The image could not be processed; upload it again.")
            return True
        try:
            data = await self._objects.read(original_name(media.id))
            if len(data) != media.declared_size:
                raise images.UnusableImage("The uploaded file changed after it was checked.")
            # Off the event loop: fan-out and the other tasks keep running.
            made = await asyncio.to_thread(images.render, data)
        except ObjectMissing:
            await self._settle(media, None, "The uploaded file is gone; upload it again.")
            return True
        except images.UnusableImage as refused:
            await self._settle(media, None, refused.reason)
            return True
        await asyncio.gather(
            self._objects.write(
                rendition_name(media.id, MediaSize.LARGE), made.large, made.content_type
            ),
            self._objects.write(
                rendition_name(media.id, MediaSize.THUMBNAIL), made.thumbnail, made.content_type
            ),
        )
        rendition = Rendition(made.content_type, made.width, made.height, made.placeholder)
        await self._settle(media, rendition, None)
        return True

    async def _settle(
        self, media: MediaDocument, rendition: Rendition | None, failure: str | None
    ) -> None:
        if not await self._store.settle(media.id, rendition, failure):
            # Its post was deleted while we worked: nothing may refer to these.
            await self._objects.delete(object_names(media.id))
            return
        if rendition is None:
            self.failed += 1
        else:
            self.processed += 1
        # The original keeps the camera's metadata (GPS included) and is never
        # served: only the renditions stay.
        await self._objects.delete([original_name(media.id)])

    async def sweep(self) -> int:
        """Removes expired records (uploads never attached, deleted posts' photos,
        posts past retention) with their objects, then, once a day (or once per
        `stray_seconds`, at least an hour apart), objects that no record names.
        Returns how many records and stray objects went."""
        now = self._clock()
        removed = 0
        while expired := await self._store.expired(now, _SWEEP_BATCH):
            # Objects first: a record whose objects are gone can be swept again.
            await self._objects.delete([name for i in expired for name in object_names(i)])
            await self._store.remove(expired)
            removed += len(expired)
        if self._listed_at is not None and now - self._listed_at < self._list_every:
            self.swept += removed
            return removed
        self._listed_at = now
        cutoff = now - self._stray_age
        async for page in self._objects.listing():
            old = [item for item in page if item.modified <= cutoff]
            owners = {item.key.split("/", 1)[0] for item in old}
            known = await self._store.existing(sorted(owners))
            strays = [item.key for item in old if item.key.split("/", 1)[0] not in known]
            if strays:
                await self._objects.delete(strays)
                removed += len(strays)
        self.swept += removed
        return removed
