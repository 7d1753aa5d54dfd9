"""`tidings seed`: a synthetic social graph with a heavy-tailed degree distribution.

Friendships follow preferential attachment (Barabasi-Albert): each new user
befriends `avg_friends / 2` existing users, picked with probability proportional
to how many friends they already have. Most users end near the average and a
few with very many, as in real social networks. Celebrities are added on top,
each befriended by a uniform sample of users. Posts, if asked for, are spread
over the last week and go straight to MongoDB: timelines are built on first read.
"""

import contextlib
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo.errors import BulkWriteError
from redis.exceptions import ResponseError
from rich.progress import Progress

from tidings.app.settings import Settings
from tidings.app.stores import open_stores, prepare_schemas
from tidings.feed.ids import post_id_time, smallest_post_id_at
from tidings.stores.posts import PostDocument

BATCH = 10_000


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
        return per_user * max(self.users - per_user - 1, 0) + self.celebrities * min(
            self.celebrity_friends, self.users
        )


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


async def seed(
    settings: Settings, plan: SeedPlan, progress: Progress | None = None
) -> dict[str, int]:
    rng = random.Random(plan.seed)
    edges = 0
    # Bulk work: every call may take as long as a bulk load (forking a large Redis
    # for the final rewrite alone can take seconds).
    bulk = settings.model_copy(update={"store_timeout_seconds": settings.bulk_timeout_seconds})
    async with open_stores(bulk) as stores:
        await prepare_schemas(stores, settings)
        graph = stores.graph
        if await graph.user_summaries([plan.user_id(0)]) != [None]:
            raise SeedConflict(f"users with prefix {plan.prefix!r} exist already; pick another")
        users_task = (
            progress.add_task("users", total=plan.users + plan.celebrities) if progress else None
        )
        batch: list[str] = []
        everyone = [plan.user_id(i) for i in range(plan.users)]
        everyone += [plan.celebrity_id(i) for i in range(plan.celebrities)]
        for start in range(0, len(everyone), BATCH):
            batch = everyone[start : start + BATCH]
            await graph.ensure_users(batch)
            if progress and users_task is not None:
                progress.advance(users_task, len(batch))

        edges_task = (
            progress.add_task("friendships", total=plan.expected_edges) if progress else None
        )
        pairs: list[tuple[str, str]] = []

        async def flush() -> None:
            nonlocal edges
            if pairs:
                await graph.create_friendships(pairs)
                edges += len(pairs)
                if progress and edges_task is not None:
                    progress.advance(edges_task, len(pairs))
                pairs.clear()

        # Friend counts, to mark celebrities as the API would have on the way there.
        degrees = array("i", bytes(4 * plan.users))
        for older, newer in preferential_attachment(plan.users, plan.avg_friends, rng):
            pairs.append((plan.user_id(older), plan.user_id(newer)))
            degrees[older] += 1
            degrees[newer] += 1
            if len(pairs) >= BATCH:
                await flush()
        for index in range(plan.celebrities):
            fans = rng.sample(range(plan.users), min(plan.celebrity_friends, plan.users))
            for fan in fans:
                pairs.append((plan.celebrity_id(index), plan.user_id(fan)))
                degrees[fan] += 1
                if len(pairs) >= BATCH:
                    await flush()
        await flush()
        threshold = settings.celebrity_threshold
        celebrities = [plan.user_id(i) for i, degree in enumerate(degrees) if degree >= threshold]
        if min(plan.celebrity_friends, plan.users) >= threshold:
            celebrities += [plan.celebrity_id(i) for i in range(plan.celebrities)]
        for start in range(0, len(celebrities), BATCH):
            await graph.mark_celebrities(celebrities[start : start + BATCH])

        posts_task = progress.add_task("posts", total=plan.posts) if progress else None
        week_ago = datetime.now(UTC) - timedelta(days=7)
        low = smallest_post_id_at(week_ago)
        high = smallest_post_id_at(datetime.now(UTC))
        written = 0
        while written < plan.posts:
            size = min(BATCH, plan.posts - written)
            documents = []
            for _ in range(size):
                post_id = rng.randrange(low, high)
                author = (
                    plan.user_id(rng.randrange(plan.users)) if plan.users else plan.celebrity_id(0)
                )
                documents.append(
                    PostDocument(post_id, author, f"seeded post {post_id}", post_id_time(post_id))
                )
            # A rare duplicate id costs that one post; the rest of the batch is kept.
            with contextlib.suppress(BulkWriteError):
                await stores.posts.insert_many(documents)
            written += size
            if progress and posts_task is not None:
                progress.advance(posts_task, size)
        # The graph went in as queries; rewritten, the AOF holds it as an RDB image
        # that the next start loads in seconds instead of replaying every query.
        with contextlib.suppress(ResponseError):
            await stores.redis.bgrewriteaof()
    return {
        "users": plan.users + plan.celebrities,
        "friendships": edges,
        "celebrities": len(celebrities),
        "posts": plan.posts,
    }
