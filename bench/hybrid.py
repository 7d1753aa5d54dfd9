"""Benchmark of the hybrid feed: what celebrities cost readers, and what they save writers.

    .venv/bin/python bench/hybrid.py [--reads 200] [--posts 40] [--json]

1. First-page read latency (p50/p99, through the whole GraphQL stack in-process)
   for readers with 0, 10 and 100 celebrity friends, each also with 20 ordinary
   friends whose posts are pushed.
2. The cost of `createPost` for authors with 10, 1,000, 10,000 and 100,000 friends
   at the default threshold (5,000): the API latency, and the time until a worker
   has finished the fan-out, with how many timelines it wrote.

It starts its own redis-server+FalkorDB and SecantusDB in a temporary directory.
Figures are for comparing within one run: these machines are noisy.
"""

import argparse
import asyncio
import functools
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from tidings.app.api import create_app
from tidings.app.settings import Settings
from tidings.app.stores import open_stores
from tidings.app.worker import run_worker
from tidings_tools import devstack
from tidings_tools.bench import Parts, percentile
from tidings_tools.client import GraphQLClient

SECRET = "bench-secret-0123456789-0123456789-0123456789"
TIMELINE = "{ timeline(first: 20) { edges { node { id body createdAt author { id } } } } }"
CREATE = 'mutation { createPost(input: {body: "benchmark post"}) { post { id } } }'


class Stack:
    """The API in-process over ASGI, with one real worker beside it."""

    def __init__(self, client: GraphQLClient, parts: Parts) -> None:
        self.client = client
        self.parts = parts

    async def call(self, user: str, query: str) -> dict[str, Any]:
        return await self.client.data(user, query)

    async def drained(self) -> None:
        redis, stream = self.parts.stores.redis, self.parts.queue.stream
        while await redis.xlen(stream):  # noqa: ASYNC110  (polling another process's work)
            await asyncio.sleep(0.0005)


@asynccontextmanager
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    app = create_app(settings)
    stop = asyncio.Event()
    async with LifespanManager(app) as manager, open_stores(settings) as stores:
        parts = await Parts.build(stores, settings)
        worker = asyncio.create_task(run_worker(settings, stop))
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            yield Stack(GraphQLClient(http, "/graphql", SECRET), parts)
        stop.set()
        await worker


async def timed(samples: int, action: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(max(3, samples // 10)):  # warm caches and connections
        await action()
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        await action()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


async def read_latency(settings: Settings, reads: int) -> list[dict[str, Any]]:
    threshold = 50
    settings = settings.model_copy(update={"celebrity_threshold": threshold})
    results = []
    async with stack(settings) as bench:
        graph, posts = bench.parts.stores.graph, bench.parts.posting
        fans = [f"fan{i}" for i in range(threshold - 1)]
        celebrities = [f"celeb{i}" for i in range(100)]
        readers = {0: "reader0", 10: "reader10", 100: "reader100"}
        for count, reader in readers.items():
            for celebrity in celebrities[:count]:
                await graph.add_friendship(reader, celebrity)
            await graph.befriend_many(reader, [f"{reader}-pal{i}" for i in range(20)])
            await bench.call(reader, TIMELINE)  # active: pushed posts reach them
        # Friended in bulk, past the API: marked as the API would have.
        await graph.mark_celebrities(celebrities)
        for celebrity in celebrities:
            await graph.befriend_many(celebrity, fans)
            for _ in range(3):
                await posts.create(celebrity, "a celebrity speaks", None)
        for reader in readers.values():
            for i in range(20):
                for _ in range(5):
                    await posts.create(f"{reader}-pal{i}", "an ordinary post", None)
        await bench.drained()
        for count, reader in readers.items():
            read_page = functools.partial(bench.call, reader, TIMELINE)
            latencies = await timed(reads, read_page)
            results.append(
                {
                    "celebrity_friends": count,
                    "reads": reads,
                    "p50_ms": round(percentile(latencies, 0.5), 2),
                    "p99_ms": round(percentile(latencies, 0.99), 2),
                }
            )
    return results


async def write_cost(settings: Settings, samples: int) -> list[dict[str, Any]]:
    results = []
    async with stack(settings) as bench:
        graph, timelines = bench.parts.stores.graph, bench.parts.timelines
        for friends in (10, 1_000, 10_000, 100_000):
            author = f"author{friends}"
            ids = [f"{author}-friend{i}" for i in range(friends)]
            for start in range(0, friends, 5_000):
                await graph.befriend_many(author, ids[start : start + 5_000])
            if friends >= settings.celebrity_threshold:
                await graph.mark_celebrities([author])
            else:
                for friend_id in ids:  # active readers, so fan-out really writes
                    await timelines.build(friend_id, [], time.time())
            api_ms, done_ms = [], []
            delivered_before = 0
            for _ in range(samples):
                started = time.perf_counter()
                await bench.call(author, CREATE)
                api_ms.append((time.perf_counter() - started) * 1000)
                await bench.drained()
                done_ms.append((time.perf_counter() - started) * 1000)
            delivered = await timelines.size(ids[0]) - delivered_before
            results.append(
                {
                    "friends": friends,
                    "celebrity": friends >= settings.celebrity_threshold,
                    "posts": samples,
                    "create_p50_ms": round(percentile(api_ms, 0.5), 2),
                    "create_p99_ms": round(percentile(api_ms, 0.99), 2),
                    "fanned_out_p50_ms": round(percentile(done_ms, 0.5), 2),
                    "timelines_written_per_post": friends + 1 if delivered else 1,
                }
            )
    return results


def table(title: str, rows: list[dict[str, Any]]) -> str:
    columns = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    lines = [title, "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += [
        "  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths, strict=True)) for r in rows
    ]
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        redis_port, mongo_port = devstack.free_port(), devstack.free_port()
        servers = [
            devstack.start_redis(root / "redis", redis_port, root / "redis.log"),
            devstack.start_secantus(root / "mongo", mongo_port, root / "mongo.log"),
        ]
        try:

            def settings() -> Settings:
                return Settings(
                    redis_url=f"redis://127.0.0.1:{redis_port}/0",
                    graph_url=f"falkordb://127.0.0.1:{redis_port}",
                    mongo_uri=f"mongodb://127.0.0.1:{mongo_port}",
                    jwt_secret=SECRET,
                ).in_namespace(f"bench{uuid.uuid4().hex[:8]}")

            report = {
                "read_latency": await read_latency(settings(), args.reads),
                "write_cost": await write_cost(settings(), args.posts),
            }
        finally:
            for server in servers:
                server.stop()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table("First timeline page, by celebrity friends", report["read_latency"]))
        print()
        print(table("createPost, by the author's friend count", report["write_cost"]))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
