"""The fan-out queue: a Redis Stream read by one consumer group, at least once."""

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from tidings.feed.ids import post_id_or_none
from tidings.feed.keys import Keys
from tidings.feed.users import is_user_id

log = logging.getLogger(__name__)

GROUP = "fanout"


class JobKind(StrEnum):
    POST = "post"  # push a new post into its readers' timelines
    DELETE = "delete"  # take a deleted post out of them
    BACKFILL = "backfill"  # push an author's recent posts (they stopped being a celebrity)


@dataclass(frozen=True, slots=True)
class FanoutJob:
    message_id: str
    kind: JobKind
    author_id: str
    post_id: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    original_id: str
    kind: str
    post_id: str
    author_id: str
    attempts: int
    error: str


@dataclass(frozen=True, slots=True)
class QueueSizes:
    length: int
    pending: int
    dead_letters: int


class FanoutQueue:
    def __init__(self, redis: "Redis", keys: Keys, max_attempts: int = 5) -> None:
        self._redis = redis
        self.stream = keys.stream
        self.dead_stream = keys.dead_letters
        self._failures = keys.failures
        self._disk_marker = keys.durability_marker
        self._max_attempts = max_attempts

    async def enqueue(self, post_id: int, author_id: str, kind: JobKind = JobKind.POST) -> str:
        # Plain strings, never pickles: any process (or version) can read them.
        message_id = await self._redis.xadd(
            self.stream, {"kind": kind.value, "post_id": str(post_id), "author_id": author_id}
        )
        return str(message_id)

    async def enqueue_backfill(self, author_id: str) -> str:
        return await self.enqueue(0, author_id, JobKind.BACKFILL)

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _in_group(self, command: Awaitable[Any]) -> Any:
        """Runs a consumer-group command; None if Redis lost the group.

        After a restart without persistence or a failover the stream and its group
        are gone: every group command would fail with NOGROUP until a restart. The
        group is created again instead; posts in flight come back through the outbox.
        """
        try:
            return await command
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            log.warning("fan-out group missing; creating it again")
            await self.ensure_group()
            return None

    async def read(self, consumer: str, count: int, block_ms: int) -> list[FanoutJob]:
        """New messages for this consumer; blocks up to `block_ms` when there are none."""
        reply: Any = await self._in_group(
            self._redis.xreadgroup(GROUP, consumer, {self.stream: ">"}, count=count, block=block_ms)
        )
        entries = [entry for _stream, stream_entries in reply or [] for entry in stream_entries]
        return await self._jobs(entries)

    async def own_pending(self, consumer: str, count: int) -> list[FanoutJob]:
        """Messages this consumer took and has not acknowledged: after a store outage
        it retries them itself, without waiting for anyone to claim them."""
        reply: Any = await self._in_group(
            self._redis.xreadgroup(GROUP, consumer, {self.stream: "0"}, count=count)
        )
        entries = [entry for _stream, stream_entries in reply or [] for entry in stream_entries]
        return await self._jobs(entries)

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[FanoutJob]:
        """Messages a consumer took but has not acknowledged for `min_idle_ms`.

        One that has been tried `max_attempts` times already goes to the dead-letter
        stream, with its last error, instead of being tried again.
        """
        reply: Any = await self._in_group(
            self._redis.xautoclaim(
                self.stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0", count=count
            )
        )
        entries = [(str(message_id), fields) for message_id, fields in (reply or [0, []])[1]]
        if not entries:
            return []
        pending: Any = await self._redis.xpending_range(
            self.stream, GROUP, min=entries[0][0], max=entries[-1][0], count=len(entries) * 2
        )
        tries = {str(p["message_id"]): int(p["times_delivered"]) for p in pending}
        exhausted = [(i, f) for i, f in entries if f and tries.get(i, 0) > self._max_attempts]
        if exhausted:
            await self._bury(exhausted)
        buried = {message_id for message_id, _ in exhausted}
        return await self._jobs([(i, f) for i, f in entries if i not in buried])

    async def record_failure(self, message_id: str, error: str) -> None:
        await self._redis.hset(self._failures, message_id, error[:1_000])

    async def ack(self, message_ids: list[str]) -> None:
        """Marks messages done and drops them, so the stream does not grow without bound."""
        if not message_ids:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, GROUP, *message_ids)
            pipe.xdel(self.stream, *message_ids)
            pipe.hdel(self._failures, *message_ids)
            await pipe.execute()

    async def _bury(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        ids = [message_id for message_id, _ in entries]
        errors: Any = await self._redis.hmget(self._failures, ids)
        async with self._redis.pipeline(transaction=True) as pipe:
            for (message_id, fields), error in zip(entries, errors, strict=True):
                record: dict[Any, Any] = {
                    **fields,
                    "original_id": message_id,
                    "attempts": str(self._max_attempts),
                    "error": error or "unknown (the worker died while handling it)",
                }
                pipe.xadd(self.dead_stream, record)
            pipe.xack(self.stream, GROUP, *ids)
            pipe.xdel(self.stream, *ids)
            pipe.hdel(self._failures, *ids)
            await pipe.execute()
        log.error("moved %d fan-out messages to %s: %s", len(ids), self.dead_stream, ids)

    async def dead_letters(self, count: int = 100) -> list[DeadLetter]:
        entries: Any = await self._redis.xrange(self.dead_stream, count=count)
        return [
            DeadLetter(
                id=str(dead_id),
                original_id=fields.get("original_id", ""),
                kind=fields.get("kind", JobKind.POST.value),
                post_id=fields.get("post_id", ""),
                author_id=fields.get("author_id", ""),
                attempts=int(fields.get("attempts", "0")),
                error=fields.get("error", ""),
            )
            for dead_id, fields in entries
        ]

    async def replay(self, dead_ids: list[str]) -> int:
        """Puts dead letters back on the queue (as new messages); returns how many."""
        replayed = 0
        for dead_id in dead_ids:
            entries: Any = await self._redis.xrange(self.dead_stream, dead_id, dead_id)
            if not entries:
                continue
            fields = entries[0][1]
            message: dict[Any, Any] = {
                key: fields[key] for key in ("kind", "post_id", "author_id") if key in fields
            }
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(self.stream, message)
                pipe.xdel(self.dead_stream, dead_id)
                await pipe.execute()
            replayed += 1
        return replayed

    async def pending_count(self) -> int:
        summary = await self._redis.xpending(self.stream, GROUP)
        return int(summary["pending"])

    async def wait_for_disk(self, replicas: int = 0, timeout_ms: int = 2_000) -> bool:
        """Whether every write Redis took so far is in its AOF on disk (and on
        `replicas` replicas), waiting up to `timeout_ms` for it.

        WAITAOF waits for this connection's writes only: one more write on the same
        connection, after the ones that matter, makes it wait for all of them.
        """
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(self._disk_marker)
            pipe.execute_command("WAITAOF", 1, replicas, timeout_ms)
            _, (on_disk, on_replicas) = await pipe.execute()
        return bool(on_disk >= 1 and on_replicas >= replicas)

    async def sizes(self) -> QueueSizes:
        return QueueSizes(
            length=int(await self._redis.xlen(self.stream)),
            pending=await self.pending_count(),
            dead_letters=int(await self._redis.xlen(self.dead_stream)),
        )

    async def _jobs(self, entries: list[Any]) -> list[FanoutJob]:
        jobs, malformed = [], []
        for message_id, fields in entries:
            job = _parse(str(message_id), fields or {})
            if job is None:
                malformed.append(str(message_id))
            else:
                jobs.append(job)
        if malformed:
            # Retrying cannot make them valid; keeping them would block nothing
            # but would be reclaimed forever.
            log.warning("dropping %d malformed fan-out messages: %s", len(malformed), malformed)
            await self.ack(malformed)
        return jobs


def _parse(message_id: str, fields: dict[str, str]) -> FanoutJob | None:
    post_id, author_id = post_id_or_none(fields.get("post_id", "")), fields.get("author_id", "")
    try:
        kind = JobKind(fields.get("kind", JobKind.POST.value))
    except ValueError:
        return None
    if post_id is None or not is_user_id(author_id):
        return None
    if kind is not JobKind.BACKFILL and post_id == 0:
        return None
    return FanoutJob(message_id, kind, author_id, post_id)
