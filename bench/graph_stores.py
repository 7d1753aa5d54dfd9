"""The friend graph on Neo4j beside FalkorDB: query latencies, fan-out, and Neo4j's plans.

    .venv/bin/python bench/graph_stores.py [--users 100000] [--celebrity-friends 50000]
                                           [--rounds 200] [--json] [--plans]

Starts its own redis-server with FalkorDB, SecantusDB and Neo4j (the launcher the
Makefile builds) in a temporary directory, and loads the same graph into both
stores with `tidings seed`'s generator: `--users` users with 50 friends on average
(preferential attachment) and one celebrity with `--celebrity-friends` friends.

1. Latency (p50/p99 over `--rounds` calls, through the adapters as the API and the
   worker call them) of each graph call on the read and write paths.
2. Fan-out: deliveries/s of the worker's own `Fanout.deliver` for an author with
   5,000 active friends; the graph's part is reading them in chunks.
3. `--plans`: PROFILE of every shared query on Neo4j (writes in a transaction that
   is rolled back): operators, db hits, rows, time. docs/neo4j-plans.md keeps them.

Figures are for comparing within one run: these machines are noisy.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tidings.app.settings import Settings
from tidings.app.stores import open_stores
from tidings.feed.queue import FanoutJob, JobKind
from tidings.stores import cypher
from tidings.stores.graph import RelationList
from tidings.stores.neo4j_graph import Neo4jGraph
from tidings_tools import devstack, neo4j
from tidings_tools.bench import Parts, latency_summary
from tidings_tools.seed import SeedPlan, seed

SECRET = "bench-secret-0123456789-0123456789-0123456789"
CELEBRITY = "uceleb0"
TYPICAL = "u500"
FAN_AUTHOR = "fan-author"
FAN_READERS = 5_000


async def latency(call: Callable[[], Awaitable[object]], rounds: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return latency_summary(samples)


async def measure(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    plan = SeedPlan(
        users=args.users,
        avg_friends=50,
        celebrities=1,
        celebrity_friends=args.celebrity_friends,
        posts=0,
    )
    started = time.perf_counter()
    await seed(settings, plan)
    report: dict[str, Any] = {"seed_s": round(time.perf_counter() - started, 1)}
    async with open_stores(settings) as stores:
        parts = await Parts.build(stores, settings)
        graph = stores.graph
        page = [f"u{n}" for n in range(1_000, 1_019)] + [CELEBRITY]
        [fan] = await graph.friends_page(CELEBRITY, None, 1)
        middle = (await graph.friends_page(CELEBRITY, None, args.celebrity_friends // 2))[-1]
        promote, demote = settings.celebrity_threshold, settings.celebrity_demote_below
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "friends_page first 20, typical user": lambda: graph.friends_page(TYPICAL, None, 20),
            "friends_page 20 deep in the celebrity's": lambda: graph.friends_page(
                CELEBRITY, middle, 20
            ),
            "fan-out chunk: 1,000 of the celebrity's friends": lambda: graph.friends_page(
                CELEBRITY, None, 1_000
            ),
            "is_celebrity (the worker's check)": lambda: graph.is_celebrity(CELEBRITY),
            "update_celebrity, celebrity (bounded count)": lambda: graph.update_celebrity(
                CELEBRITY, promote_at=promote, demote_below=demote
            ),
            "update_celebrity, typical user": lambda: graph.update_celebrity(
                TYPICAL, promote_at=promote, demote_below=demote
            ),
            "user_summaries, a page of 20 authors": lambda: graph.user_summaries(page),
            "relations, viewer to 20 authors": lambda: graph.relations(TYPICAL, page),
            "celebrity_friends of a reader": lambda: graph.celebrity_friends(fan),
            "muters of the celebrity": lambda: graph.muters(CELEBRITY, 1_000),
            "relations_page, requests": lambda: graph.relations_page(
                TYPICAL, RelationList.INCOMING_REQUESTS, None, 21
            ),
            "suggestions, typical user": lambda: graph.suggestions(
                TYPICAL, 10, friends_walked=200, per_friend=200
            ),
            "suggestions, a friend of the celebrity": lambda: graph.suggestions(
                fan, 10, friends_walked=200, per_friend=200
            ),
        }
        report["latency"] = {name: await latency(call, args.rounds) for name, call in calls.items()}

        readers = [f"u{n}" for n in range(FAN_READERS)]
        await graph.befriend_many(FAN_AUTHOR, readers)
        now = time.time()
        for reader in readers:
            await parts.timelines.build(reader, [], now)
        posts = 50
        started = time.perf_counter()
        delivered = 0
        for n in range(posts):
            job = FanoutJob(f"0-{n}", JobKind.POST, FAN_AUTHOR, (1 << 44) + n)
            delivered += await parts.fanout.deliver(job)
        elapsed = time.perf_counter() - started
        report["fanout"] = {
            "deliveries": delivered,
            "deliveries_per_s": round(delivered / elapsed),
        }
    return report


def operators(plan: dict[str, Any]) -> list[str]:
    """The plan's operators, root first, depth-first."""
    found = [str(plan["operatorType"]).split("@")[0]]
    for child in plan.get("children", []):
        found += operators(child)
    return found


def db_hits(plan: dict[str, Any]) -> int:
    own = int(plan.get("args", {}).get("DbHits", plan.get("dbHits", 0)) or 0)
    return own + sum(db_hits(child) for child in plan.get("children", []))


def plan_parameters() -> dict[str, dict[str, Any]]:
    """Parameters for each shared query, on the seeded graph's users."""
    now = int(time.time() * 1000)
    pair = {"a": TYPICAL, "b": "u501"}
    page = [f"u{n}" for n in range(1_000, 1_019)] + [CELEBRITY]
    keyset = {"id": CELEBRITY, "at": now, "after": "", "limit": 21}
    return {
        "ENSURE_USER": {"id": TYPICAL},
        "ADD_FRIENDSHIP": pair,
        "BEFRIEND_MANY": {"id": TYPICAL, "friends": page},
        "ENSURE_USERS": {"ids": page},
        "CREATE_FRIENDSHIPS": {"pairs": [[TYPICAL, other] for other in page]},
        "REQUEST_FRIENDSHIP": {"a": CELEBRITY, "b": TYPICAL, "cap": 1000, "now": now},
        "REMOVE_FRIENDSHIP": {"a": CELEBRITY, "b": "u1"},
        "BLOCK": {"a": CELEBRITY, "b": "u1", "now": now},
        "UNBLOCK": pair,
        "MUTE": {"a": "u1", "b": CELEBRITY, "now": now},
        "UNMUTE": pair,
        "RELATIONS": {"viewer": TYPICAL, "ids": page},
        "INCOMING_REQUESTS_PAGE": keyset,
        "OUTGOING_REQUESTS_PAGE": keyset,
        "BLOCKED_PAGE": keyset,
        "MUTED_PAGE": keyset,
        "MUTERS": {"id": CELEBRITY, "limit": 1000},
        "FRIENDS_PAGE": {"id": CELEBRITY, "after": "u5", "limit": 1000},
        "CELEBRITY_FRIENDS": {"id": "u1"},
        "SUGGESTIONS": {
            "id": "u1",
            "limit": 10,
            "friends_walked": 200,
            "per_friend": 200,
        },
        "IS_CELEBRITY": {"id": CELEBRITY},
        "UPDATE_CELEBRITY": {"id": CELEBRITY, "promote_at": 5000, "demote_below": 4000},
        "MARK_CELEBRITIES": {"ids": [CELEBRITY]},
        "USER_SUMMARIES": {"ids": page},
    }


async def profile(url: str) -> dict[str, Any]:
    """PROFILE of every shared query on Neo4j; nothing it writes is kept."""
    queries = {
        name: getattr(cypher, name)
        for name in dir(cypher)
        if name.isupper() and not name.startswith("_") and isinstance(getattr(cypher, name), str)
    }
    parameters = plan_parameters()
    missing = set(queries) - set(parameters)
    if missing:
        raise SystemExit(f"no parameters for {sorted(missing)}: add them to plan_parameters()")
    graph = Neo4jGraph.from_url(url, "tidings")
    plans: dict[str, Any] = {}
    try:
        async with graph.session() as session:
            for name, text in sorted(queries.items()):
                transaction = await session.begin_transaction()
                try:
                    query = cypher.with_degree(text, Neo4jGraph.degree)
                    result = await transaction.run("PROFILE " + query, parameters[name])
                    summary = await result.consume()
                finally:
                    await transaction.rollback()
                plan = summary.profile or {}
                steps = operators(plan)
                plans[name] = {
                    "operators": steps,
                    "db_hits": db_hits(plan),
                    "rows": int(plan.get("rows", 0) or 0),
                    "ms": (summary.result_available_after or 0)
                    + (summary.result_consumed_after or 0),
                    "full_scan": any(
                        step.startswith(("AllNodesScan", "NodeByLabelScan")) for step in steps
                    ),
                }
    finally:
        await graph.close()
    return plans


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--celebrity-friends", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--plans", action="store_true", help="PROFILE every query on Neo4j")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if (reason := neo4j.unavailable()) is not None:
        print(f"needs Neo4j: {reason}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tidings-graphs-") as scratch:
        root = Path(scratch)
        redis_port, mongo_port, bolt_port = devstack.free_ports(3)
        servers = [
            devstack.start_redis(root / "redis", redis_port, root / "redis.log"),
            devstack.start_secantus(root / "mongo", mongo_port, root / "mongo.log"),
        ]
        secret = neo4j.password(root)
        servers.append(neo4j.start_neo4j(root / "neo4j", bolt_port, root / "neo4j.log", secret))
        try:
            base = Settings(
                redis_url=f"redis://127.0.0.1:{redis_port}/0",
                mongo_uri=f"mongodb://127.0.0.1:{mongo_port}/graphs",
                jwt_secret=SECRET,
                fanout_wait_for_disk=False,
                log_level="WARNING",
            )
            neo4j_url = neo4j.bolt_url(bolt_port, secret)
            report = {
                "falkordb": await measure(
                    base.model_copy(
                        update={
                            "namespace": "falkor",
                            "graph_url": f"falkordb://127.0.0.1:{redis_port}/falkor",
                        }
                    ),
                    args,
                ),
                "neo4j": await measure(base.model_copy(update={"graph_url": neo4j_url}), args),
            }
            if args.plans:
                report["neo4j_plans"] = await profile(neo4j_url)
        finally:
            for server in reversed(servers):
                server.stop()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"seeded in: FalkorDB {report['falkordb']['seed_s']} s, Neo4j {report['neo4j']['seed_s']} s"
    )
    print(f"{'call':52} {'FalkorDB p50/p99 ms':>22} {'Neo4j p50/p99 ms':>20}")
    for name, falkor in report["falkordb"]["latency"].items():
        other = report["neo4j"]["latency"][name]
        print(
            f"{name:52} {falkor['p50_ms']:>10} / {falkor['p99_ms']:<9}"
            f" {other['p50_ms']:>8} / {other['p99_ms']:<9}"
        )
    print(
        "fan-out deliveries/s (5,000 active friends per post): "
        f"FalkorDB {report['falkordb']['fanout']['deliveries_per_s']:,}, "
        f"Neo4j {report['neo4j']['fanout']['deliveries_per_s']:,}"
    )
    for name, plan in report.get("neo4j_plans", {}).items():
        scan = "  FULL SCAN" if plan["full_scan"] else ""
        print(
            f"{name:24} {plan['db_hits']:>8} db hits {plan['rows']:>6} rows "
            f"{plan['ms']:>4} ms  {' > '.join(plan['operators'])}{scan}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
