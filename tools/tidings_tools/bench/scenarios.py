"""The scenarios: each measures one figure and the ceiling it is judged against."""

import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tidings.app import components
from tidings.app.auth import issue_token
from tidings.app.settings import Settings
from tidings.app.stores import open_stores
from tidings.feed.friend_lists import friend_ids
from tidings.feed.ids import PostIdGenerator, post_id_time
from tidings.feed.lookup import StoreLookup
from tidings.feed.queue import GROUP, FanoutJob, JobKind
from tidings.feed.timeline import TimelineStore
from tidings.stores.comments import CommentDocument
from tidings.stores.posts import PostDocument
from tidings_tools import neo4j
from tidings_tools.bench import media as bench_media
from tidings_tools.bench.documents import (
    CHEAP,
    CREATE,
    PAGE,
    RANKED_PAGE,
    SOCIAL_PAGE,
    costly_query,
    fragment_bomb,
)
from tidings_tools.bench.measure import latency_summary, load, percentile, ratio
from tidings_tools.bench.parts import Parts, scratch_key
from tidings_tools.bench.sizes import BenchSize
from tidings_tools.client import GraphQLClient, GraphQLFailure
from tidings_tools.devstack import (
    TIDINGS,
    ChildProcess,
    accepts_connections,
    environment_for,
    free_port,
    free_ports,
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

        await self.interactions(parts, posts[-40:], readers)

        async def first_page() -> None:
            await api.data(self.rng.choice(readers), PAGE)

        async def first_page_social() -> None:
            await api.data(self.rng.choice(readers), SOCIAL_PAGE)

        async def deep_page() -> None:
            reader = self.rng.choice(readers)
            await api.data(reader, PAGE, {"after": deep[reader]})

        results: dict[str, Any] = {
            "first_page": await load(size.read_seconds, size.concurrency, first_page),
            "first_page_social": await load(size.read_seconds, size.concurrency, first_page_social),
            "deep_page": await load(size.read_seconds, size.concurrency, deep_page),
        }
        results["first_page_2_processes"] = await self.two_processes(http, first_page_at=readers)
        results["first_page_2_processes"]["ratio_to_1"] = ratio(
            results["first_page_2_processes"]["rps"], results["first_page"]["rps"]
        )
        ceilings = await self.static_ceiling(http, {"page": PAGE, "social": SOCIAL_PAGE})
        ceiling = ceilings["page"]
        results["ceiling_a_static_strawberry"] = ceiling
        results["ceiling_a_social"] = ceilings["social"]
        results["first_page"]["ratio_to_a"] = ratio(results["first_page"]["rps"], ceiling["rps"])
        results["first_page_social"]["ratio_to_a"] = ratio(
            results["first_page_social"]["rps"], ceilings["social"]["rps"]
        )
        results["deep_page"]["ratio_to_a"] = ratio(results["deep_page"]["rps"], ceiling["rps"])
        results["ranked_session_start"], sessions = await self.ranked_sessions(parts, api, readers)

        async def ranked_page() -> None:
            reader = self.rng.choice(readers)
            await api.data(reader, RANKED_PAGE, {"after": sessions[reader]})

        results["ranked_page"] = await load(size.read_seconds, size.concurrency, ranked_page)
        results["ranked_page"]["ratio_to_a"] = ratio(results["ranked_page"]["rps"], ceiling["rps"])
        results["strategies_c"] = await self.strategies(parts, readers)
        return results

    async def media(self, parts: Parts, http: httpx.AsyncClient) -> dict[str, Any]:
        """Photos: processing by the running worker, and a first page of posts with
        four photos each, against the static ceiling serving the same fields."""
        if parts.stores.objects is None:
            return {"skipped": "no media bucket (TIDINGS_S3_BUCKET); `tidings dev` starts one"}
        readers, authors = await self.circle(
            parts, "mreader", self.size.readers, "mauthor", self.size.media_authors
        )
        return await bench_media.media(
            parts,
            self.client(http),
            http,
            readers,
            authors,
            self.size,
            lambda documents: self.static_ceiling(http, documents),
        )

    async def ranked_sessions(
        self, parts: Parts, api: GraphQLClient, readers: list[str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Each reader starts reading sessions one after the other (the whole cost of
        starting one: candidates, signals, scoring, storing the order); returns
        its figures and a cursor into each reader's last session."""
        took: list[float] = []
        cursors: dict[str, str] = {}
        for _round in range(max(1, 100 // len(readers))):
            for reader in readers:
                started = time.perf_counter()
                page = (await api.data(reader, RANKED_PAGE))["timeline"]
                took.append((time.perf_counter() - started) * 1000)
                cursors[reader] = page["pageInfo"]["endCursor"]
        # What one session's order costs Redis, as MEMORY USAGE reports it.
        redis, sizes, lengths = parts.stores.redis, [], []
        for reader in readers:
            pattern = f"{parts.keys.namespace}:rank:*:{{{reader}}}"
            async for key in redis.scan_iter(match=pattern, count=1_000):
                sizes.append(int(await redis.memory_usage(key) or 0))
                lengths.append(int(await redis.llen(key)))
        figures = {
            "sessions": len(took),
            "candidates": max(lengths, default=0),
            "bytes_per_session": round(statistics.mean(sizes)) if sizes else 0,
        }
        return figures | latency_summary(took), cursors

    async def interactions(
        self, parts: Parts, posts: list[PostDocument], readers: list[str]
    ) -> None:
        """Likes and comments on the posts the first pages show, as a feed has them:
        a few likes on each, three comments on every other one."""
        stores = parts.stores
        ids = PostIdGenerator(await components.lease_id_node(stores, parts.keys))
        for n, post in enumerate(posts):
            for liker in self.rng.sample(readers, min(5, len(readers))):
                await stores.likes.like(post.id, liker, int(time.time() * 1000))
            if n % 2:
                continue
            for commenter in self.rng.sample(readers, min(3, len(readers))):
                comment_id = ids.next_id()
                comment = CommentDocument(
                    comment_id, post.id, commenter, "y" * 60, post_id_time(comment_id)
                )
                await stores.comments.insert(comment, None)

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

    async def static_ceiling(
        self, http: httpx.AsyncClient, documents: dict[str, str]
    ) -> dict[str, dict[str, float]]:
        """Each document served by the static ceiling, one after the other."""
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

            figures = {}
            for name, document in documents.items():

                async def static_page(document: str = document) -> None:
                    response = await http.post(url, json={"query": document})
                    assert response.status_code == 200
                    assert "errors" not in response.json()

                figures[name] = await load(
                    self.size.read_seconds, self.size.concurrency, static_page
                )
            return figures
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
            await parts.home.page(self.rng.choice(readers), None, 20, lookup)

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

    # -- interact ------------------------------------------------------------------------

    async def like_hot_post(self, parts: Parts, http: httpx.AsyncClient) -> dict[str, Any]:
        """Likes from distinct users on one post, against the same number of likes
        spread over many posts, in the same run: a hot post should cost no more."""
        size = self.size
        api = self.client(http)
        [author], likers = await self.circle(parts, "liked", 1, "liker", size.likers)
        # Written in-process: the API's own limit on posting is not what is measured.
        posts = [
            str((await parts.posting.create(author, "like this", None)).id)
            for _ in range(size.spread_posts + 1)
        ]
        hot, spread = posts[0], posts[1:]
        # Each liker has read the post first, as people do: the burst is of likes.
        seen = "query($id: ID!) { post(id: $id) { id } }"
        for liker in likers:
            await api.data(liker, seen, {"id": hot})
        like = "mutation($id: ID!) { likePost(postId: $id) { id } }"

        async def burst(targets: list[str]) -> dict[str, float]:
            limit = asyncio.Semaphore(size.concurrency)
            took: list[float] = []

            async def one(liker: str, post_id: str) -> None:
                async with limit:
                    started = time.perf_counter()
                    await api.data(liker, like, {"id": post_id})
                    took.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            await asyncio.gather(*(one(u, p) for u, p in zip(likers, targets, strict=True)))
            elapsed = time.perf_counter() - started
            return {"likes": len(took), "likes_per_s": round(len(took) / elapsed, 1)} | (
                latency_summary(took)
            )

        hot_figures = await burst([hot] * len(likers))
        spread_figures = await burst([spread[i % len(spread)] for i in range(len(likers))])
        count = await api.data(
            author, "query($id: ID!) { post(id: $id) { likeCount } }", {"id": hot}
        )
        return {
            "hot": hot_figures,
            "spread": spread_figures,
            "ratio_to_spread": ratio(hot_figures["likes_per_s"], spread_figures["likes_per_s"]),
            "hot_like_count": count["post"]["likeCount"],
            "likers": len(likers),
        }

    async def notify_lag(self, parts: Parts, http: httpx.AsyncClient) -> dict[str, Any]:
        """From a like (sent) to the post author's `notification` subscription showing
        it (a notification for the post counting at least that many people), with
        likes from distinct users arriving open-loop at `notify_rate` a second."""
        size = self.size
        api = self.client(http)
        [author], likers = await self.circle(parts, "noticed", 1, "noticer", size.likers)
        posts = [
            str((await parts.posting.create(author, "tell me", None)).id)
            for _ in range(size.notify_posts)
        ]
        seen = "query($id: ID!) { post(id: $id) { id } }"
        for liker in likers:  # their ties cached, as for anyone who has read the post
            await api.data(liker, seen, {"id": posts[0]})
        like = "mutation($id: ID!) { likePost(postId: $id) { id } }"
        # post id -> (sent, ordinal) of each like still waiting for its notification
        waiting: dict[str, list[tuple[float, int]]] = {post_id: [] for post_id in posts}
        returned = dict.fromkeys(posts, 0)
        lags: list[float] = []
        received = 0
        url = self.api_url.replace("http://", "ws://", 1)
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            token = issue_token(author, self.secret, 600)
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            document = "subscription { notification { id actorCount } }"
            await ws.send(
                json.dumps({"id": "n", "type": "subscribe", "payload": {"query": document}})
            )
            await self.subscribed(parts, parts.keys.notification_channel(author))

            async def receive() -> None:
                nonlocal received
                while any(waiting.values()) or sending:
                    message = json.loads(await ws.recv())
                    arrived = time.perf_counter()
                    if message.get("type") != "next":
                        continue
                    received += 1
                    found = message["payload"]["data"]["notification"]
                    post_id = found["id"].partition("/")[2][1:]
                    pending = waiting.get(post_id, [])
                    covered = [(sent, n) for sent, n in pending if n <= found["actorCount"]]
                    lags.extend((arrived - sent) * 1000 for sent, _ in covered)
                    waiting[post_id] = [p for p in pending if p not in covered]

            async def one(liker: str, post_id: str) -> None:
                sent = time.perf_counter()
                await api.data(liker, like, {"id": post_id})
                returned[post_id] += 1
                waiting[post_id].append((sent, returned[post_id]))

            sending = True
            receiving = asyncio.create_task(receive())
            interval, started, sends = 1 / size.notify_rate, time.perf_counter(), []
            for n, liker in enumerate(likers):
                await asyncio.sleep(max(0.0, started + n * interval - time.perf_counter()))
                sends.append(asyncio.create_task(one(liker, posts[n % len(posts)])))
            await asyncio.gather(*sends)
            sending = False
            # Likes never notified within the wait are reported below.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(receiving, 30)
        return {
            "likes": len(likers),
            "likes_per_s": size.notify_rate,
            "posts": len(posts),
            "notifications": received,
            "notified_likes": len(lags),
            "never_notified": sum(len(pending) for pending in waiting.values()),
        } | latency_summary(lags)

    @staticmethod
    async def subscribed(parts: Parts, channel: str, within: float = 10.0) -> None:
        """Returns once some API process listens on `channel` (Redis says so)."""
        deadline = time.perf_counter() + within
        while not (await parts.stores.redis.pubsub_numsub(channel))[0][1]:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"nobody subscribed to {channel} within {within}s")
            await asyncio.sleep(0.01)

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

    async def fanout(self, own: Parts, worker_counts: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
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
        for workers in worker_counts:
            processes = [self.worker(own.settings, n) for n in range(workers)]
            try:
                await self.wait_for_consumers(own, workers)
                # A batch first, untimed: a worker runs for days, and its first query
                # of each kind pays for planning (Neo4j: a quarter of a second).
                warm = own.settings.fanout_batch * workers
                await self.enqueue_posts(own, authors, post_base, warm)
                await self.drained(own)
                post_base += warm
                started = time.perf_counter()
                await self.enqueue_posts(own, authors, post_base, size.fanout_posts)
                await self.drained(own)
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

    async def sustained(self, own: Parts, per_worker_per_s: float) -> dict[str, Any]:
        """The highest post rate one worker keeps up with, and the lag at it.

        Open loop, posts enqueued as createPost enqueues them, by authors with
        `fanout_friends` active friends each. Rates from 90% of the drained
        throughput down, in short probes, until one leaves the stream's backlog
        flat (below); that rate is then held for `sustain_seconds`,
        the backlog read every second and every post timed from its enqueueing to
        its arrival in a friend's timeline.
        """
        size = self.size
        friends = size.fanout_friends
        authors = [f"fan-author{i}" for i in range(10)]
        watched = own.keys.timeline("fan-friend0")  # every author's friend
        drained_posts_per_s = per_worker_per_s / (friends + 1)
        process = self.worker(own.settings, 0)
        post_base = 1 << 42
        try:
            await self.wait_for_consumers(own, 1)
            tried: dict[str, bool] = {}
            held: dict[str, Any] = {}
            holds = 0
            rate = 0.0
            for fraction in (0.9, 0.75, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1):
                rate = drained_posts_per_s * fraction
                probe = await self.post_at(
                    own, authors, watched, rate, size.probe_seconds, post_base
                )
                post_base += probe["posts"]
                await self.drained(own)
                tried[f"{rate:.0f}"] = probe["backlog_flat"]
                if not probe["backlog_flat"]:
                    continue
                held = await self.post_at(
                    own, authors, watched, rate, size.sustain_seconds, post_base
                )
                post_base += held["posts"]
                await self.drained(own)
                tried[f"{rate:.0f} held {size.sustain_seconds:.0f}s"] = held["backlog_flat"]
                holds += 1
                # A probe is short: a rate that did not hold for the whole time gives
                # its place to the next one down, once.
                if held["backlog_flat"] or holds == 2:
                    break
            if not held:  # no rate kept up even briefly: the lowest, held all the same
                held = await self.post_at(
                    own, authors, watched, rate, size.sustain_seconds, post_base
                )
                await self.drained(own)
        finally:
            process.stop()
        await own.stores.redis.delete(own.queue.stream)
        await own.queue.ensure_group()
        return {
            "drained_posts_per_s": round(drained_posts_per_s, 1),
            "friends_per_author": friends,
            "posts_per_s": round(rate, 1),
            "deliveries_per_s": round(rate * (friends + 1)),
            "probes_flat": tried,
            **held,
        }

    async def post_at(
        self,
        own: Parts,
        authors: list[str],
        watched: str,
        rate: float,
        seconds: float,
        first: int,
    ) -> dict[str, Any]:
        redis = own.stores.redis
        backlog = [await redis.xlen(own.queue.stream)]
        enqueued: dict[int, float] = {}  # post id -> when it went into the stream
        lag_ms: list[float] = []
        tick = 0.01

        async def arrivals() -> None:
            # Only what arrived since the oldest post still awaited: the cost of
            # watching stays with the arrivals, however far the worker falls behind.
            arrived: Any = await redis.zrange(watched, min(enqueued), "+inf", byscore=True)
            seen = time.perf_counter()
            for member in arrived:
                if (sent_at := enqueued.pop(int(member), None)) is not None:
                    lag_ms.append((seen - sent_at) * 1000)

        started = time.perf_counter()
        sent = 0
        next_sample = started + 1
        while (now := time.perf_counter()) < started + seconds:
            due = int((now - started) * rate) + 1 - sent
            if due > 0:
                await self.enqueue_posts(own, authors, first + sent, due)
                enqueued.update(dict.fromkeys(range(first + sent, first + sent + due), now))
                sent += due
            if enqueued:
                await arrivals()
            if now >= next_sample:
                backlog.append(await redis.xlen(own.queue.stream))
                next_sample += 1
            await asyncio.sleep(max(0.0, tick - (time.perf_counter() - now)))
        backlog.append(await redis.xlen(own.queue.stream))
        # The last posts' lag too, as they arrive (for a bounded time).
        deadline = time.perf_counter() + 60
        while enqueued and time.perf_counter() < deadline:
            await arrivals()
            await asyncio.sleep(tick)
        # Flat: the backlog's mean over the last third of the window is no more than
        # two batches above its mean over the middle third. It may settle at a few
        # batches while the worker's batches grow to take the rate (keeping up, not
        # falling behind), and one sample may catch a batch in flight: means, not
        # single samples.
        allowance = 2 * own.settings.fanout_batch
        third = max(1, len(backlog) // 3)
        middle = round(statistics.fmean(backlog[third : 2 * third] or backlog), 1)
        last = round(statistics.fmean(backlog[2 * third :] or backlog[-1:]), 1)
        return {
            "seconds": seconds,
            "posts": sent,
            "backlog_start": backlog[0],
            "backlog_end": backlog[-1],
            "backlog_max": max(backlog),
            "backlog_mean_middle_third": middle,
            "backlog_mean_last_third": last,
            "backlog_flat": last <= middle + allowance,
            "lag_to_timeline": latency_summary(lag_ms) if lag_ms else {},
            "lagged_posts_seen": len(lag_ms),
        }

    async def fanout_on_neo4j(self, falkordb_per_worker: float) -> dict[str, Any]:
        """The same fan-out, one worker, with the friend graph in a Neo4j the bench
        starts (Redis and MongoDB as before): what the production graph costs."""
        if reason := neo4j.unavailable():
            return {"skipped": reason}
        root = self.logs / "neo4j"
        port = free_port()
        secret = neo4j.password(root)
        server = await asyncio.to_thread(
            neo4j.start_neo4j, root / "home", port, self.logs / "neo4j.log", secret, "1g"
        )
        settings = (
            self.own_settings()
            .in_namespace(f"bench{self.run}n")
            .model_copy(update={"graph_url": neo4j.bolt_url(port, secret)})
        )
        try:
            async with open_stores(settings) as stores:
                own = await Parts.build(stores, settings)
                try:
                    figures = await self.fanout(own, worker_counts=(1,))
                finally:
                    keys = [key async for key in stores.redis.scan_iter(match=own.keys.everything)]
                    for start in range(0, len(keys), 1_000):
                        await stores.redis.delete(*keys[start : start + 1_000])
                    await stores.graph.drop()
                    await stores.mongo.drop_database(settings.namespace)
        finally:
            server.stop()
        figures["ratio_to_falkordb"] = ratio(
            figures["1_worker"]["per_worker_per_s"], falkordb_per_worker
        )
        return figures

    async def enqueue_posts(self, own: Parts, authors: list[str], first: int, count: int) -> None:
        """`count` new posts, ids from `first`, by the authors in turn, in one pipeline."""
        async with own.stores.redis.pipeline(transaction=False) as pipe:
            for n in range(count):
                pipe.xadd(
                    own.queue.stream,
                    {
                        "kind": JobKind.POST.value,
                        "post_id": str(first + n),
                        "author_id": authors[n % len(authors)],
                    },
                )
            await pipe.execute()

    async def drained(self, own: Parts) -> None:
        while await own.stores.redis.xlen(own.queue.stream):  # noqa: ASYNC110  (polls workers)
            await asyncio.sleep(0.005)

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
        keys = [scratch_key(own.keys, f"zadd:{{{i}}}") for i in range(1_000)]
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
        keys = [scratch_key(own.keys, f"rawzadd:{{{i}}}").encode() for i in range(1_000)]
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
        ports = free_ports(3)
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
