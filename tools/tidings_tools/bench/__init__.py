"""`tidings bench`: measure a running stack, and the ceilings it is judged against.

Every figure is printed beside its ceiling, as a ratio, from the same run on the
same machine, so noise between runs cancels out:

- read: first and deep timeline pages through the API at a concurrency, against
  (a) Strawberry serving 20 static posts through the same ASGI stack;
- fan-out: deliveries per second per worker process, with 1 and 2 workers, against
  (b) raw pipelined ZADD into the same Redis; the highest post rate one worker
  keeps up with (its backlog flat) and the post-to-timeline lag at that rate;
- strategies: pure push, pure pull and the hybrid read on the same data (c);
- write: createPost rate and post-to-timeline lag at a fixed write rate;
- memory: Redis bytes per timeline entry at the cap;
- celebrities: the worker's cost for a celebrity's post, at 1x and 10x the threshold;
- interact: likes from distinct users on one hot post, against as many spread over
  many posts (a hot post must cost no more), and the hot post's count at the end;
  from a like to the author's live notification;
- read also shows the social first page (counts, the viewer's like, two comments
  under each post) against the same ceiling serving those fields;
- media: 12-megapixel photos a second through the running worker, and a first page
  of posts with four photos each (signed URLs included) against the ceiling
  serving those fields.

Reads and writes go to the running API and its namespace, with users prefixed by a
run id. Fan-out, ZADD and memory work in a namespace of the bench's own, with
workers it starts itself, and are deleted afterwards.
"""

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from tidings.app.settings import Settings
from tidings.app.stores import open_stores
from tidings_tools.bench.documents import costly_query, fragment_bomb
from tidings_tools.bench.measure import latency_summary, percentile, ratio
from tidings_tools.bench.parts import Parts
from tidings_tools.bench.report import render, targets
from tidings_tools.bench.scenarios import Bench
from tidings_tools.bench.sizes import TINY, BenchSize


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
        report["media"] = await bench.media(parts, http)
        # The page beside the other pages: read.first_page_media.ratio_to_a.
        for figure in ("first_page_media", "ceiling_a_media"):
            if figure in report["media"]:
                report["read"][figure] = report["media"].pop(figure)
        report["write"] = await bench.write(parts, http)
        report["attack"] = await bench.attack(http)
        report["interact"] = {
            "like_hot_post": await bench.like_hot_post(parts, http),
            "notify_lag": await bench.notify_lag(parts, http),
        }
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
            report["fanout"]["sustained"] = await bench.sustained(
                own, report["fanout"]["1_worker"]["per_worker_per_s"]
            )
            report["fanout"]["cluster"] = await bench.cluster_fanout(own)
            if bench.size.fanout_on_neo4j:
                report["fanout"]["neo4j"] = await bench.fanout_on_neo4j(
                    report["fanout"]["1_worker"]["per_worker_per_s"]
                )
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


__all__ = [
    "TINY",
    "BenchSize",
    "Parts",
    "costly_query",
    "fragment_bomb",
    "latency_summary",
    "percentile",
    "render",
    "run_bench",
    "targets",
]
