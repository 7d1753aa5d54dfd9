"""`tidings seed`: a synthetic social graph with a heavy-tailed degree distribution.

Friendships follow preferential attachment (Barabasi-Albert): each new user
befriends `avg_friends / 2` existing users, picked with probability proportional
to how many friends they already have. Most users end near the average and a
few with very many, as in real social networks. Celebrities are added on top,
each befriended by a uniform sample of users. Posts, if asked for, are spread
over the last week and go straight to MongoDB: timelines are built on first read.

It loads as bulk loaders do: the graph and the posts side by side (two servers),
each with two calls in flight while the next batch is made on a thread; posts into
an empty collection without waiting on the journal, its indexes built afterwards;
at the end Redis's AOF rewritten, so the next start loads an image, not queries.
"""

import asyncio
import contextlib
import itertools
import random
import time
from array import array
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Sized
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pymongo.errors import BulkWriteError
from redis.exceptions import ResponseError
from rich.progress import Progress

from tidings.app.settings import Settings
from tidings.app.stores import Stores, open_stores, prepare_schemas
from tidings.feed.ids import post_id_time, smallest_post_id_at
from tidings.stores.posts import PostDocument

BATCH = 10_000  # friendships or posts a call

_Batch = TypeVar("_Batch", bound=Sized)


class SeedConflict(Exception):
    pass


@dataclass(frozen=True)
class SeedPlan:
    users: int
    avg_friends: int
    celebrities: int
    celebrity_friends: int
    posts: int
    prefix: str = "u"
    seed: int = 7

    def user_id(self, index: int) -> str:
        return f"{self.prefix}{index}"

    def celebrity_id(self, index: int) -> str:
        return f"{self.prefix}celeb{index}"

    @property
    def expected_edges(self) -> int:
        per_user = max(1, self.avg_friends // 2)
        first = min(self.users, per_user + 1)  # befriend each other
        later = max(self.users - first, 0)  # befriend per_user each
        celebrity_edges = self.celebrities * min(self.celebrity_friends, self.users)
        return first * (first - 1) // 2 + per_user * later + celebrity_edges


def preferential_attachment(
    users: int, avg_friends: int, rng: random.Random
) -> Iterator[tuple[int, int]]:
    """Edges (older, newer) of a Barabasi-Albert graph; no pair twice, no self-loops."""
    per_user = max(1, avg_friends // 2)
    if users <= per_user:
        yield from ((a, b) for b in range(users) for a in range(b))
        return
    # Every endpoint of every edge so far: a uniform pick from it is a pick
    # proportional to degree.
    endpoints = array("i")
    for newer in range(per_user + 1):
        for older in range(newer):
            yield older, newer
            endpoints.extend((older, newer))
    for newer in range(per_user + 1, users):
        chosen: set[int] = set()
        while len(chosen) < per_user:
            chosen.add(endpoints[rng.randrange(len(endpoints))])
        for older in chosen:
            yield older, newer
            endpoints.extend((older, newer))


@dataclass
class SeedReport:
    users: int = 0
    friendships: int = 0
    celebrities: int = 0
    posts: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase

    def counts(self) -> dict[str, int]:
        return {
            "users": self.users,
            "friendships": self.friendships,
            "celebrities": self.celebrities,
            "posts": self.posts,
        }


class _Phase:
    def __init__(self, report: SeedReport, name: str) -> None:
        self._report, self._name = report, name

    def __enter__(self) -> None:
        self._started = time.monotonic()

    def __exit__(self, *_: object) -> None:
        self._report.seconds[self._name] = round(time.monotonic() - self._started, 2)


def friendship_groups(
    plan: SeedPlan, rng: random.Random, degrees: "array[int]"
) -> Iterator[tuple[str, list[str]]]:
    """Each user with the older users it befriends, then each celebrity with its fans;
    counts every user's friends in `degrees` on the way."""
    edges = preferential_attachment(plan.users, plan.avg_friends, rng)
    for newer, group in itertools.groupby(edges, key=lambda edge: edge[1]):
        olders = [older for older, _ in group]
        degrees[newer] += len(olders)
        for older in olders:
            degrees[older] += 1
        yield plan.user_id(newer), [plan.user_id(older) for older in olders]
    for index in range(plan.celebrities):
        fans = rng.sample(range(plan.users), min(plan.celebrity_friends, plan.users))
        for fan in fans:
            degrees[fan] += 1
        for start in range(0, len(fans), BATCH):
            yield (
                plan.celebrity_id(index),
                [plan.user_id(fan) for fan in fans[start : start + BATCH]],
            )


def _take_friendships(
    groups: Iterator[tuple[str, list[str]]],
) -> list[tuple[str, list[str]]]:
    batch: list[tuple[str, list[str]]] = []
    size = 0
    for user, friends in groups:
        batch.append((user, friends))
        size += len(friends)
        if size >= BATCH:
            break
    return batch


def _bar(progress: Progress | None, name: str, total: int) -> Callable[[int], None]:
    """A progress bar and the function that advances it (nothing without a terminal)."""
    if progress is None:
        return lambda _: None
    task = progress.add_task(name, total=total)
    return lambda done: progress.advance(task, done)


async def pipelined(
    make: Callable[[], _Batch],
    send: Callable[[_Batch], Coroutine[None, None, None]],
) -> None:
    """Sends batch after batch with two calls in flight (the server never waits for
    the next one), the next batch made on a thread meanwhile, until `make` returns
    an empty one."""
    in_flight: deque[asyncio.Task[None]] = deque()
    try:
        while True:
            batch = await asyncio.to_thread(make)
            if not batch:
                break
            if len(in_flight) == 2:
                await in_flight.popleft()
            in_flight.append(asyncio.create_task(send(batch)))
        while in_flight:
            await in_flight.popleft()
    finally:
        for task in in_flight:
            task.cancel()
        for task in in_flight:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _load_graph(
    stores: Stores,
    settings: Settings,
    plan: SeedPlan,
    report: SeedReport,
    progress: Progress | None,
) -> None:
    graph = stores.graph
    everyone = [plan.user_id(i) for i in range(plan.users)]
    everyone += [plan.celebrity_id(i) for i in range(plan.celebrities)]
    users_done = _bar(progress, "users", len(everyone))
    with _Phase(report, "users"):
        for start in range(0, len(everyone), BATCH):
            await graph.ensure_users(everyone[start : start + BATCH])
            users_done(min(BATCH, len(everyone) - start))
    report.users = len(everyone)

    edges_done = _bar(progress, "friendships", plan.expected_edges)
    # Friend counts, to mark celebrities as the API would have on the way there.
    degrees = array("i", bytes(4 * plan.users))
    groups = friendship_groups(plan, random.Random(plan.seed), degrees)

    async def send(batch: list[tuple[str, list[str]]]) -> None:
        await graph.create_friendships(batch)
        size = sum(len(friends) for _, friends in batch)
        report.friendships += size
        edges_done(size)

    with _Phase(report, "friendships"):
        await pipelined(lambda: _take_friendships(groups), send)
    threshold = settings.celebrity_threshold
    celebrities = [plan.user_id(i) for i, degree in enumerate(degrees) if degree >= threshold]
    if min(plan.celebrity_friends, plan.users) >= threshold:
        celebrities += [plan.celebrity_id(i) for i in range(plan.celebrities)]
    with _Phase(report, "celebrities"):
        for start in range(0, len(celebrities), BATCH):
            await graph.mark_celebrities(celebrities[start : start + BATCH])
    report.celebrities = len(celebrities)


async def _load_posts(
    stores: Stores,
    settings: Settings,
    plan: SeedPlan,
    report: SeedReport,
    progress: Progress | None,
) -> None:
    if not plan.posts:
        return
    posts_done = _bar(progress, "posts", plan.posts)
    rng = random.Random(plan.seed + 1)
    week_ago = datetime.now(UTC) - timedelta(days=7)
    low = smallest_post_id_at(week_ago)
    high = smallest_post_id_at(datetime.now(UTC))
    made = 0

    def make() -> list[PostDocument]:
        nonlocal made
        size = min(BATCH, plan.posts - made)
        made += size
        documents = []
        for _ in range(size):
            post_id = rng.randrange(low, high)
            author = plan.user_id(rng.randrange(plan.users)) if plan.users else plan.celebrity_id(0)
            documents.append(
                PostDocument(post_id, author, f"seeded post {post_id}", post_id_time(post_id))
            )
        return documents

    async def send(documents: list[PostDocument]) -> None:
        # A rare duplicate id costs that one post; the rest of the batch is kept.
        with contextlib.suppress(BulkWriteError):
            await stores.posts.insert_many(documents)
        report.posts += len(documents)
        posts_done(len(documents))

    empty = await stores.posts.is_empty()
    if empty:
        await stores.posts.drop_indexes_for_bulk_load()
    with _Phase(report, "posts"):
        await pipelined(make, send)
    if empty:
        with _Phase(report, "post indexes"):
            await stores.posts.ensure_indexes(settings.retention_days)


async def _rewrite_append_only_file(stores: Stores) -> None:
    """The graph went in as queries; rewritten, the AOF holds it as an RDB image that
    the next start loads in seconds instead of replaying every query."""
    redis = stores.redis
    with contextlib.suppress(ResponseError):  # one is under way already
        await redis.bgrewriteaof()
    while True:
        persistence = await redis.info("persistence")
        if not (
            persistence.get("aof_rewrite_in_progress") or persistence.get("aof_rewrite_scheduled")
        ):
            return
        await asyncio.sleep(0.25)


async def seed(settings: Settings, plan: SeedPlan, progress: Progress | None = None) -> SeedReport:
    report = SeedReport()
    # Bulk work: every call may take as long as a bulk load (forking a large Redis
    # for the final rewrite alone can take seconds).
    bulk = settings.model_copy(update={"store_timeout_seconds": settings.bulk_timeout_seconds})
    async with open_stores(bulk) as stores:
        await prepare_schemas(stores, settings)
        if await stores.graph.user_summaries([plan.user_id(0)]) != [None]:
            raise SeedConflict(f"users with prefix {plan.prefix!r} exist already; pick another")
        # Two servers, loaded side by side.
        async with asyncio.TaskGroup() as both:
            both.create_task(_load_graph(stores, settings, plan, report, progress))
            both.create_task(_load_posts(stores, settings, plan, report, progress))
        with _Phase(report, "aof rewrite"):
            async with asyncio.timeout(settings.bulk_timeout_seconds):
                await _rewrite_append_only_file(stores)
    return report
