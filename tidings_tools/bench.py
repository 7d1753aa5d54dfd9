"""`tidings bench`: measure a running stack, and the ceilings it is judged against.

Every figure is printed beside its ceiling, as a ratio, from the same run on the
same machine, so noise between runs cancels out:

- read: first and deep timeline pages through the API at a concurrency, against
  (a) Strawberry serving 20 static posts through the same ASGI stack;
- fan-out: deliveries per second per worker process, with 1 and 2 workers, against
  (b) raw pipelined ZADD into the same Redis;
- strategies: pure push, pure pull and the hybrid read on the same data (c);
- write: createPost rate and post-to-timeline lag at a fixed write rate;
- memory: Redis bytes per timeline entry at the cap;
- celebrities: the worker's cost for a celebrity's post, at 1x and 10x the threshold.

Reads and writes go to the running API and its namespace, with users prefixed by a
run id. Fan-out, ZADD and memory work in a namespace of the bench's own, with
workers it starts itself, and are deleted afterwards.
"""

import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tidings.app import components
from tidings.app.settings import Settings
from tidings.app.stores import Stores, open_stores, prepare_schemas
from tidings.app.worker import build_fanout
from tidings.feed.fanout import Fanout
from tidings.feed.friend_lists import friend_ids
from tidings.feed.home import HomeTimeline
from tidings.feed.keys import Keys
from tidings.feed.lookup import StoreLookup
from tidings.feed.posts import PostService
from tidings.feed.queue import GROUP, FanoutJob, FanoutQueue, JobKind
from tidings.feed.timeline import TimelineStore
from tidings_tools.client import GraphQLClient, GraphQLFailure
from tidings_tools.devstack import (
    TIDINGS,
    ChildProcess,
    accepts_connections,
    environment_for,
    free_port,
)

PAGE = """query($after: String) { timeline(first: 20, after: $after) {
  edges { cursor node { id body createdAt client author { id friendCount } } }
  pageInfo { hasNextPage endCursor } } }"""
CREATE = 'mutation { createPost(input: {body: "benchmark post"}) { post { id } } }'
CHEAP = "{ viewer { id friendCount } }"


def fragment_bomb(per_level: int = 10, levels: int = 6) -> str:
    """The 558-byte document that once cost the API seconds of CPU: spreads of spreads,
    per_level**levels fields once expanded."""
    fragments = ["fragment F0 on User { id }"]
    for level in range(1, levels + 1):
        spreads = " ".join(
            f"a{i}: friends {{ edges {{ node {{ ...F{level - 1} }} }} }}" for i in range(per_level)
        )
        fragments.append(f"fragment F{level} on User {{ {spreads} }}")
    return f"{{ viewer {{ ...F{levels} }} }} " + " ".join(fragments)


def costly_query() -> str:
    """Ten aliases of friends of friends of friends, 100 at a time: refused on cost."""
    nested = "id"
    for _ in range(3):
        nested = f"friends(first: 100) {{ edges {{ node {{ {nested} }} }} }}"
    return "{ " + " ".join(f"v{i}: viewer {{ {nested} }}" for i in range(10)) + " }"


@dataclass(frozen=True)
class BenchSize:
    readers: int = 40
    authors: int = 200  # every reader's friends
    posts_per_author: int = 5
    read_seconds: float = 8.0
    concurrency: int = 8
    writers: int = 100
    followers: int = 200  # every writer's friends
    write_rate: float = 100.0
    write_seconds: float = 8.0
    fanout_posts: int = 300
    fanout_friends: int = 200
    memory_timelines: int = 50
    timeline_cap: int = 800
    zadd_batches: int = 50
    attack_seconds: float = 4.0
    attackers: int = 4  # of each kind: fragment bombs, over-budget queries


TINY = BenchSize(
    readers=2,
    authors=5,
    posts_per_author=2,
    read_seconds=0.5,
    concurrency=2,
    writers=3,
    followers=5,
    write_rate=10,
    write_seconds=0.5,
    fanout_posts=5,
    fanout_friends=5,
    memory_timelines=2,
    timeline_cap=50,
    zadd_batches=2,
    attack_seconds=0.5,
    attackers=1,
)


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latency_summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples_ms, 0.50), 2),
        "p95_ms": round(percentile(samples_ms, 0.95), 2),
        "p99_ms": round(percentile(samples_ms, 0.99), 2),
    }


def ratio(value: float, ceiling: float) -> float:
    return round(value / ceiling, 3) if ceiling else float("nan")


async def load(
    seconds: float, concurrency: int, request: Callable[[], Awaitable[None]]
) -> dict[str, float]:
    """Closed-loop load: `concurrency` clients, each sending its next request on reply."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                await request()
            except (httpx.HTTPError, GraphQLFailure):
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        **latency_summary(latencies),
    }


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


class Bench:
    def __init__(
        self, settings: Settings, api_url: str, size: BenchSize, secret: str, logs: Path
    ) -> None:
        self.settings = settings
        self.api_url = api_url
        self.size = size
        self.secret = secret
        self.logs = logs
        self.run = uuid.uuid4().hex[:6]
        self.rng = random.Random(11)

    def user(self, role: str, index: int) -> str:
        return f"bench{self.run}-{role}{index}"

    def client(self, http: httpx.AsyncClient) -> GraphQLClient:
        return GraphQLClient(http, self.api_url, self.secret)

    async def circle(
        self, parts: Parts, role: str, count: int, friend_role: str, friends: int
    ) -> tuple[list[str], list[str]]:
        """`count` users, each befriended with the same `friends` others."""
        members = [self.user(role, i) for i in range(count)]
        others = [self.user(friend_role, i) for i in range(friends)]
        await parts.stores.graph.ensure_users(members + others)
        for member in members:
            await parts.stores.graph.befriend_many(member, others)
        return members, others

    # -- read --------------------------------------------------------------------------

    async def read(self, parts: Parts, http: httpx.AsyncClient) -> dict[str, Any]:
        size = self.size
        api = self.client(http)
        readers, authors = await self.circle(parts, "reader", size.readers, "author", size.authors)
        posts = []
        for author in authors:
            for _ in range(size.posts_per_author):
                posts.append(await parts.posting.create(author, "x" * 80, None))
        # Deep cursors: well inside each reader's history, found by paging as a client would.
        deep: dict[str, str | None] = {}
        depth = max(1, min(len(posts), size.timeline_cap) * 3 // 4 // 20)
        for reader in readers:
            after = None
            for _ in range(depth):
                page = (await api.data(reader, PAGE, {"after": after}))["timeline"]
                after = page["pageInfo"]["endCursor"] or after
            deep[reader] = after

        async def first_page() -> None:
            await api.data(self.rng.choice(readers), PAGE)

        async def deep_page() -> None:
            reader = self.rng.choice(readers)
            await api.data(reader, PAGE, {"after": deep[reader]})

        results: dict[str, Any] = {
            "first_page": await load(size.read_seconds, size.concurrency, first_page),
            "deep_page": await load(size.read_seconds, size.concurrency, deep_page),
        }
        results["first_page_2_processes"] = await self.two_processes(http, first_page_at=readers)
        results["first_page_2_processes"]["ratio_to_1"] = ratio(
            results["first_page_2_processes"]["rps"], results["first_page"]["rps"]
        )
        ceiling = await self.static_ceiling(http)
        results["ceiling_a_static_strawberry"] = ceiling
        results["first_page"]["ratio_to_a"] = ratio(results["first_page"]["rps"], ceiling["rps"])
        results["deep_page"]["ratio_to_a"] = ratio(results["deep_page"]["rps"], ceiling["rps"])
        results["strategies_c"] = await self.strategies(parts, readers)
        return results

    async def two_processes(
        self, http: httpx.AsyncClient, first_page_at: list[str]
    ) -> dict[str, float]:
        """The first page from `tidings api --workers 2` on the same stores."""
        port = free_port()
        api_settings = self.settings.model_copy(
            update={
                "port": port,
                "api_workers": 2,
                "jwt_secret": self.secret,
                "log_level": "WARNING",
                "api_metrics_port": 0,
                "post_rate": 1_000_000,
            }
        )
        server = ChildProcess(
            "api2", [TIDINGS, "api"], self.logs / "api2.log", environment_for(api_settings)
        )
        api = GraphQLClient(http, f"http://127.0.0.1:{port}/graphql", self.secret)
        try:
            await asyncio.to_thread(server.wait_until, accepts_connections(port, b"", b""), 60)
            for reader in first_page_at:  # each process warms its caches
                await api.data(reader, PAGE)

            async def first_page() -> None:
                await api.data(self.rng.choice(first_page_at), PAGE)

            return await load(self.size.read_seconds, self.size.concurrency, first_page)
        finally:
            server.stop()

    async def static_ceiling(self, http: httpx.AsyncClient) -> dict[str, float]:
        port = free_port()
        argv = [
            sys.executable, "-m", "uvicorn", "--factory", "tidings_tools.bench_ceiling:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
        server = ChildProcess("ceiling", argv, self.logs / "ceiling.log", dict(os.environ))
        url = f"http://127.0.0.1:{port}/graphql"
        try:
            await asyncio.to_thread(server.wait_until, accepts_connections(port, b"", b""), 30)

            async def static_page() -> None:
                response = await http.post(url, json={"query": PAGE})
                assert response.status_code == 200

            return await load(self.size.read_seconds, self.size.concurrency, static_page)
        finally:
            server.stop()

    async def strategies(self, parts: Parts, readers: list[str]) -> dict[str, Any]:
        """The same first page three ways, in-process, so only the strategy differs."""
        posts = parts.stores.posts
        lookup = StoreLookup(posts, parts.stores.graph)

        async def push() -> None:
            read = await parts.timelines.read(self.rng.choice(readers), None, 21)
            await posts.get_many(read.post_ids[:20])

        async def pull() -> None:
            reader = self.rng.choice(readers)
            authors = [reader, *await friend_ids(parts.stores.graph, reader)]
            await posts.recent_by_authors(authors, None, 21)

        async def hybrid() -> None:
            await parts.home.read(self.rng.choice(readers), None, 20, lookup)

        seconds = self.size.read_seconds / 2
        figures: dict[str, Any] = {
            "pure_push": await load(seconds, 1, push),
            "pure_pull": await load(seconds, 1, pull),
            "hybrid": await load(seconds, 1, hybrid),
        }
        figures["pull_over_push_latency"] = ratio(
            figures["pure_pull"]["p50_ms"], figures["pure_push"]["p50_ms"]
        )
        figures["writes_per_post"] = {
            "pure_push": self.size.authors,
            "pure_pull": 0,
            "hybrid": f"{self.size.authors} below the celebrity threshold, 0 above it",
        }
        return figures

    # -- under attack --------------------------------------------------------------------

    async def attack(self, http: httpx.AsyncClient) -> dict[str, Any]:
        """/healthz latency and cheap-query throughput, quiet and while attackers send
        fragment bombs (without a token) and over-budget queries as fast as answered."""
        api = self.client(http)
        health_url = self.api_url.rsplit("/graphql", 1)[0] + "/healthz"
        seconds, concurrency = self.size.attack_seconds, self.size.concurrency

        async def cheap() -> None:
            await api.data(self.user("reader", 0), CHEAP)

        async def health() -> None:
            response = await http.get(health_url)
            if response.status_code != 200:
                raise GraphQLFailure(f"/healthz answered {response.status_code}")

        async def measure() -> dict[str, Any]:
            cheap_load, health_load = await asyncio.gather(
                load(seconds, concurrency, cheap), load(seconds, 1, health)
            )
            return {"cheap_query": cheap_load, "healthz": health_load}

        quiet = await measure()
        answers: dict[str, int] = {}
        stop = asyncio.Event()

        async def attacker(user: str | None, query: str) -> None:
            while not stop.is_set():
                try:
                    response = await api.post(user, query)
                    body = response.json() if response.status_code == 200 else {}
                    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
                    key = f"{response.status_code} {','.join(sorted(set(codes)))}".strip()
                except httpx.HTTPError as error:
                    key = type(error).__name__
                answers[key] = answers.get(key, 0) + 1

        attackers = [
            asyncio.create_task(attacker(user, query))
            for _ in range(self.size.attackers)
            for user, query in ((None, fragment_bomb()), (self.user("reader", 1), costly_query()))
        ]
        try:
            attacked = await measure()
        finally:
            stop.set()
            await asyncio.gather(*attackers)
        return {
            "attackers": len(attackers),
            "quiet": quiet,
            "under_attack": attacked,
            "attack_answers": answers,
            "healthz_p99_ratio": ratio(attacked["healthz"]["p99_ms"], quiet["healthz"]["p99_ms"]),
            "cheap_rps_ratio": ratio(attacked["cheap_query"]["rps"], quiet["cheap_query"]["rps"]),
        }

    # -- write -------------------------------------------------------------------------

    async def write(self, parts: Parts, http: httpx.AsyncClient) -> dict[str, Any]:
        size = self.size
        api = self.client(http)
        writers, followers = await self.circle(
            parts, "writer", size.writers, "follower", size.followers
        )
        now = time.time()
        for follower in followers:
            await parts.timelines.build(follower, [], now)
        watched = parts.keys.timeline(followers[0])
        create_ms: list[float] = []
        lag_ms: list[float] = []
        # post id -> when createPost returned; one poller checks them all per tick.
        outstanding: dict[int, float] = {}
        sending = True

        async def track() -> None:
            deadline = float("inf")
            while (sending or outstanding) and time.perf_counter() < deadline:
                if not sending and deadline == float("inf"):
                    deadline = time.perf_counter() + 30
                ids = list(outstanding)
                if ids:
                    async with parts.stores.redis.pipeline(transaction=False) as pipe:
                        for post_id in ids:
                            pipe.zscore(watched, str(post_id))
                        scores = await pipe.execute()
                    seen = time.perf_counter()
                    for post_id, score in zip(ids, scores, strict=True):
                        if score is not None:
                            lag_ms.append((seen - outstanding.pop(post_id)) * 1000)
                await asyncio.sleep(0.002)

        async def one_post(writer: str) -> None:
            started = time.perf_counter()
            data = await api.data(writer, CREATE)
            returned = time.perf_counter()
            create_ms.append((returned - started) * 1000)
            outstanding[int(data["createPost"]["post"]["id"])] = returned

        tracker = asyncio.create_task(track())
        interval = 1 / size.write_rate
        total = int(size.write_rate * size.write_seconds)
        started = time.perf_counter()
        sends = []
        for n in range(total):
            # Open loop: posts go out on schedule, whether or not earlier ones returned.
            await asyncio.sleep(max(0.0, started + n * interval - time.perf_counter()))
            sends.append(asyncio.create_task(one_post(writers[n % len(writers)])))
        await asyncio.gather(*sends)
        elapsed = time.perf_counter() - started
        sending = False
        await tracker
        return {
            "target_posts_per_s": size.write_rate,
            "friends_per_author": size.followers,
            "posts": total,
            "achieved_posts_per_s": round(total / elapsed, 1),
            "create": latency_summary(create_ms),
            "lag_to_timeline": latency_summary(lag_ms),
            "lagged_posts_seen": len(lag_ms),
        }

    # -- fan-out, ZADD ceiling, memory, celebrities (own namespace) -----------------------

    def own_settings(self) -> Settings:
        own = self.settings.in_namespace(f"bench{self.run}")
        return own.model_copy(update={"timeline_max": self.size.timeline_cap})

    async def fanout(self, own: Parts) -> dict[str, Any]:
        size = self.size
        authors = [f"fan-author{i}" for i in range(10)]
        friends = [f"fan-friend{i}" for i in range(size.fanout_friends)]
        await own.stores.graph.ensure_users(authors + friends)
        for author in authors:
            await own.stores.graph.befriend_many(author, friends)
        now = time.time()
        for user in friends + authors:
            await own.timelines.build(user, [], now)
        results: dict[str, Any] = {}
        post_base = 1 << 40
        for workers in (1, 2):
            processes = [self.worker(own.settings, n) for n in range(workers)]
            try:
                await self.wait_for_consumers(own, workers)
                started = time.perf_counter()
                async with own.stores.redis.pipeline(transaction=False) as pipe:
                    for n in range(size.fanout_posts):
                        pipe.xadd(
                            own.queue.stream,
                            {
                                "kind": JobKind.POST.value,
                                "post_id": str(post_base + n),
                                "author_id": authors[n % len(authors)],
                            },
                        )
                    await pipe.execute()
                while await own.stores.redis.xlen(own.queue.stream):  # noqa: ASYNC110  (polls workers)
                    await asyncio.sleep(0.005)
                elapsed = time.perf_counter() - started
            finally:
                for process in processes:
                    process.stop()
            deliveries = size.fanout_posts * (size.fanout_friends + 1)
            results[f"{workers}_worker"] = {
                "deliveries": deliveries,
                "deliveries_per_s": round(deliveries / elapsed),
                "per_worker_per_s": round(deliveries / elapsed / workers),
            }
            post_base += size.fanout_posts
            await own.stores.redis.delete(own.queue.stream)  # a fresh group for the next round
            await own.queue.ensure_group()
        return results

    def worker(self, own_settings: Settings, index: int) -> ChildProcess:
        env = environment_for(own_settings.model_copy(update={"log_level": "WARNING"}))
        return ChildProcess(f"worker{index}", [TIDINGS, "worker"], self.logs / f"w{index}.log", env)

    async def wait_for_consumers(self, own: Parts, count: int) -> None:
        await own.queue.ensure_group()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            consumers: Any = await own.stores.redis.xinfo_consumers(own.queue.stream, GROUP)
            if len(consumers) >= count:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("bench workers did not start")

    async def zadd_ceiling(self, own: Parts) -> dict[str, float]:
        keys = [own.keys.scratch(f"zadd:{{{i}}}") for i in range(1_000)]
        post_id = 1 << 45
        started = time.perf_counter()
        for batch in range(self.size.zadd_batches):
            async with own.stores.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zadd(key, {str(post_id + batch): post_id + batch})
                await pipe.execute()
        elapsed = time.perf_counter() - started
        await own.stores.redis.delete(*keys)
        return {"zadd_per_s": round(len(keys) * self.size.zadd_batches / elapsed)}

    async def zadd_server_ceiling(self, own: Parts) -> dict[str, float]:
        """ZADD as Redis itself sees it: commands written raw to a socket, pipelined
        in one buffer, and the replies counted, with no client library in between."""
        url = urlsplit(self.settings.redis_url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port or 6379)
        keys = [own.keys.scratch(f"rawzadd:{{{i}}}").encode() for i in range(1_000)]
        post_id = 1 << 45
        commands = []
        for batch in range(self.size.zadd_batches):
            member = str(post_id + batch).encode()
            for key in keys:
                commands.append(
                    b"*4\r\n$4\r\nZADD\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                    % (len(key), key, len(member), member, len(member), member)
                )
        payload = b"".join(commands)
        expected = 4 * len(commands)  # every reply is ":1\r\n"
        try:
            started = time.perf_counter()
            writer.write(payload)
            received = 0
            while received < expected:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    raise RuntimeError("redis closed the raw connection")
                received += len(chunk)
            elapsed = time.perf_counter() - started
        finally:
            writer.close()
            await writer.wait_closed()
            await own.stores.redis.delete(*(key.decode() for key in keys))
        return {"zadd_per_s": round(len(commands) / elapsed)}

    async def cluster_fanout(self, own: Parts) -> dict[str, Any]:
        """Fan-out in-process to `fanout_friends` readers: on this Redis, and on a
        local 3-primary Redis Cluster grouped by node against a call per reader."""
        from tidings_tools.cluster import start_redis_cluster

        readers = [f"cluster-reader{i}" for i in range(self.size.fanout_friends)]
        posts = max(3, self.size.fanout_posts // 10)

        async def build(store: TimelineStore) -> None:
            now = time.time()
            for reader in readers:
                await store.build(reader, [], now)

        async def rate(store: TimelineStore, one_call_per_reader: bool) -> float:
            limit = asyncio.Semaphore(32)

            async def alone(post_id: int, reader: str) -> int:
                async with limit:
                    return await store.fan_out(post_id, [reader], 0)

            started = time.perf_counter()
            delivered = 0
            for n in range(posts):
                post_id = (1 << 43) + n
                if one_call_per_reader:
                    delivered += sum(await asyncio.gather(*(alone(post_id, r) for r in readers)))
                else:
                    delivered += await store.fan_out(post_id, readers, 0)
            return round(delivered / (time.perf_counter() - started))

        results: dict[str, Any] = {"readers": len(readers), "posts": posts, "primaries": 3}
        await build(own.timelines)
        results["single_server_per_s"] = await rate(own.timelines, one_call_per_reader=False)
        ports = [free_port() for _ in range(3)]
        root = self.logs / f"cluster{self.run}"
        nodes = await asyncio.to_thread(start_redis_cluster, root, ports, root)
        try:
            cluster_settings = own.settings.model_copy(
                update={"redis_url": f"redis://127.0.0.1:{ports[0]}/0", "redis_cluster": True}
            )
            async with open_stores(cluster_settings) as stores:
                store = components.timeline_store(stores, cluster_settings, own.keys)
                await build(store)
                results["grouped_by_node_per_s"] = await rate(store, one_call_per_reader=False)
                results["one_call_per_reader_per_s"] = await rate(store, one_call_per_reader=True)
        finally:
            for node in nodes:
                node.stop()
        results["grouped_to_per_reader"] = ratio(
            results["grouped_by_node_per_s"], results["one_call_per_reader_per_s"]
        )
        return results

    async def memory(self, own: Parts) -> dict[str, Any]:
        cap = self.size.timeline_cap
        base = 1 << 46
        users = [f"mem{i}" for i in range(self.size.memory_timelines)]
        for user in users:
            ids = [base + self.rng.randrange(1 << 30) for _ in range(cap)]
            await own.timelines.build(user, ids, time.time())
        redis = own.stores.redis
        sizes = [await redis.memory_usage(own.keys.timeline(u), samples=0) or 0 for u in users]
        entries = [await own.timelines.size(u) for u in users]
        encoding = await redis.object("encoding", own.keys.timeline(users[0]))
        config: Any = await redis.config_get("zset-max-listpack-entries")
        return {
            "cap": cap,
            "bytes_per_entry": round(
                statistics.mean(s / n for s, n in zip(sizes, entries, strict=True)), 1
            ),
            "encoding": encoding,
            "zset_max_listpack_entries": int(config["zset-max-listpack-entries"]),
        }

    async def celebrities(self, own: Parts) -> dict[str, Any]:
        threshold = own.settings.celebrity_threshold
        results: dict[str, Any] = {}
        for multiple in (1, 10):
            author = f"celebrity{multiple}"
            fans = [f"fan{multiple}-{i}" for i in range(threshold * multiple)]
            for start in range(0, len(fans), 5_000):
                await own.stores.graph.befriend_many(author, fans[start : start + 5_000])
            # Friended in bulk, past the API: marked as the API would have.
            await own.stores.graph.mark_celebrities([author])
            samples = []
            for n in range(20):
                job = FanoutJob("0-0", JobKind.POST, author, (1 << 44) + n)
                started = time.perf_counter()
                await own.fanout.handle(job)
                samples.append((time.perf_counter() - started) * 1000)
            results[f"{multiple}x_threshold"] = {
                "friends": len(fans),
                "worker_ms_per_post_p50": round(percentile(samples, 0.5), 2),
            }
        results["ratio_10x_to_1x"] = ratio(
            results["10x_threshold"]["worker_ms_per_post_p50"],
            results["1x_threshold"]["worker_ms_per_post_p50"],
        )
        return results


def targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    read, fan, write, memory = report["read"], report["fanout"], report["write"], report["memory"]
    return {
        "first page >= 60% of ceiling (a)": {
            "value": read["first_page"]["ratio_to_a"],
            "met": read["first_page"]["ratio_to_a"] >= 0.6,
        },
        "fan-out per worker >= 50% of ceiling (b)": {
            "value": fan["ratio_to_b"],
            "met": fan["ratio_to_b"] >= 0.5,
        },
        "lag p99 < 0.5 s at the write rate": {
            "value": write["lag_to_timeline"]["p99_ms"],
            "met": write["lag_to_timeline"]["p99_ms"] < 500,
        },
        "<= 25 bytes per timeline entry at the cap": {
            "value": memory["bytes_per_entry"],
            "met": memory["bytes_per_entry"] <= 25,
        },
        "celebrity post cost flat in friend count (10x / 1x <= 1.5)": {
            "value": report["celebrities"]["ratio_10x_to_1x"],
            "met": report["celebrities"]["ratio_10x_to_1x"] <= 1.5,
        },
    }


async def run_bench(
    settings: Settings, api_url: str, size: BenchSize, secret: str, logs: Path
) -> dict[str, Any]:
    await asyncio.to_thread(logs.mkdir, parents=True, exist_ok=True)
    bench = Bench(settings, api_url, size, secret, logs)
    report: dict[str, Any] = {"size": asdict(size), "api": api_url}
    limits = httpx.Limits(max_connections=size.concurrency * 2)
    api_settings = settings.model_copy(update={"post_rate": 1_000_000})
    async with (
        open_stores(api_settings) as stores,
        httpx.AsyncClient(timeout=30, limits=limits) as http,
    ):
        parts = await Parts.build(stores, api_settings)
        report["read"] = await bench.read(parts, http)
        report["write"] = await bench.write(parts, http)
        report["attack"] = await bench.attack(http)
    own_settings = bench.own_settings()
    async with open_stores(own_settings) as own_stores:
        own = await Parts.build(own_stores, own_settings)
        try:
            report["fanout"] = await bench.fanout(own)
            report["fanout"]["ceiling_b_raw_zadd"] = await bench.zadd_ceiling(own)
            report["fanout"]["ratio_to_b"] = ratio(
                report["fanout"]["1_worker"]["per_worker_per_s"],
                report["fanout"]["ceiling_b_raw_zadd"]["zadd_per_s"],
            )
            report["fanout"]["ceiling_server_zadd"] = await bench.zadd_server_ceiling(own)
            report["fanout"]["ratio_to_server"] = ratio(
                report["fanout"]["1_worker"]["per_worker_per_s"],
                report["fanout"]["ceiling_server_zadd"]["zadd_per_s"],
            )
            report["fanout"]["cluster"] = await bench.cluster_fanout(own)
            report["memory"] = await bench.memory(own)
            report["celebrities"] = await bench.celebrities(own)
        finally:
            redis = own_stores.redis
            keys = [key async for key in redis.scan_iter(match=own.keys.everything)]
            for start in range(0, len(keys), 1_000):
                await redis.delete(*keys[start : start + 1_000])
            await own_stores.graph.drop()
            await own_stores.mongo.drop_database(own_settings.namespace)
    report["targets"] = targets(report)
    return report


def render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    read, write, fan = report["read"], report["write"], report["fanout"]
    ceiling = read["ceiling_a_static_strawberry"]
    table = Table(title="Reads through the API (1 API process; 2 via --workers 2)")
    for column in ("query", "req/s", "p50 ms", "p95 ms", "p99 ms", "ratio to (a)"):
        table.add_column(column)
    for name in ("first_page", "deep_page"):
        row = read[name]
        table.add_row(
            name, str(row["rps"]), str(row["p50_ms"]), str(row["p95_ms"]), str(row["p99_ms"]),
            str(row["ratio_to_a"]),
        )  # fmt: skip
    two = read["first_page_2_processes"]
    table.add_row(
        "first_page, 2 processes", str(two["rps"]), str(two["p50_ms"]), str(two["p95_ms"]),
        str(two["p99_ms"]), f"{ratio(two['rps'], ceiling['rps'])} ({two['ratio_to_1']}x of 1)",
    )  # fmt: skip
    table.add_row(
        "(a) static Strawberry", str(ceiling["rps"]), str(ceiling["p50_ms"]),
        str(ceiling["p95_ms"]), str(ceiling["p99_ms"]), "1",
    )  # fmt: skip
    console.print(table)

    strategies = read["strategies_c"]
    table = Table(title="(c) One first page three ways, in-process")
    for column in ("strategy", "p50 ms", "p99 ms", "timeline writes per post"):
        table.add_column(column)
    for name in ("pure_push", "pure_pull", "hybrid"):
        row = strategies[name]
        writes = str(strategies["writes_per_post"][name])
        table.add_row(name, str(row["p50_ms"]), str(row["p99_ms"]), writes)
    console.print(table)

    table = Table(title="Writes")
    for column in ("figure", "value"):
        table.add_column(column)
    table.add_row("target rate (posts/s)", str(write["target_posts_per_s"]))
    table.add_row("achieved rate (posts/s)", str(write["achieved_posts_per_s"]))
    table.add_row("friends per author", str(write["friends_per_author"]))
    table.add_row(
        "createPost p50 / p99 ms", f"{write['create']['p50_ms']} / {write['create']['p99_ms']}"
    )
    lag = write["lag_to_timeline"]
    table.add_row("post-to-timeline lag p50 / p99 ms", f"{lag['p50_ms']} / {lag['p99_ms']}")
    console.print(table)

    table = Table(title="Fan-out")
    for column in ("workers", "deliveries/s", "per worker/s", "ratio to (b)"):
        table.add_column(column)
    zadd = fan["ceiling_b_raw_zadd"]["zadd_per_s"]
    for workers in (1, 2):
        row = fan[f"{workers}_worker"]
        table.add_row(
            str(workers), str(row["deliveries_per_s"]), str(row["per_worker_per_s"]),
            str(ratio(row["per_worker_per_s"], zadd)),
        )  # fmt: skip
    table.add_row("(b) raw pipelined ZADD", str(zadd), str(zadd), "1")
    server = fan["ceiling_server_zadd"]["zadd_per_s"]
    table.add_row(
        "ZADD as Redis sees it (raw socket)", str(server), str(server),
        f"{ratio(zadd, server)} (worker: {fan['ratio_to_server']})",
    )  # fmt: skip
    console.print(table)
    cluster = fan["cluster"]
    console.print(
        f"Fan-out in-process, {cluster['readers']} readers a post: one server "
        f"{cluster['single_server_per_s']}/s; {cluster['primaries']}-primary cluster "
        f"{cluster['grouped_by_node_per_s']}/s grouped by node, "
        f"{cluster['one_call_per_reader_per_s']}/s one call per reader "
        f"({cluster['grouped_to_per_reader']}x)"
    )

    memory, celebrities = report["memory"], report["celebrities"]
    console.print(
        f"Memory: {memory['bytes_per_entry']} bytes per entry at a cap of {memory['cap']} "
        f"({memory['encoding']}, zset-max-listpack-entries {memory['zset_max_listpack_entries']})"
    )
    console.print(
        "Celebrity post, worker cost p50: "
        f"{celebrities['1x_threshold']['worker_ms_per_post_p50']} ms at 1x the threshold, "
        f"{celebrities['10x_threshold']['worker_ms_per_post_p50']} ms at 10x"
    )
    attack = report["attack"]
    table = Table(title=f"Under attack ({attack['attackers']} attackers)")
    for column in ("figure", "quiet", "under attack", "ratio"):
        table.add_column(column)
    quiet, attacked = attack["quiet"], attack["under_attack"]
    table.add_row(
        "/healthz p99 ms", str(quiet["healthz"]["p99_ms"]),
        str(attacked["healthz"]["p99_ms"]), str(attack["healthz_p99_ratio"]),
    )  # fmt: skip
    table.add_row(
        "cheap query req/s", str(quiet["cheap_query"]["rps"]),
        str(attacked["cheap_query"]["rps"]), str(attack["cheap_rps_ratio"]),
    )  # fmt: skip
    console.print(table)
    console.print(f"Attack answers: {attack['attack_answers']}")

    table = Table(title="Targets")
    for column in ("target", "value", "met"):
        table.add_column(column)
    for name, target in report["targets"].items():
        table.add_row(name, str(target["value"]), "yes" if target["met"] else "NO")
    console.print(table)
