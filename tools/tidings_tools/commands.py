"""The tooling's part of the `tidings` command: dev, seed and bench, and the
running dev stack's stores and secret for every command run beside it."""

import argparse
import asyncio
import json
import sys
import time

from tidings.app.settings import Settings
from tidings_tools.stack import (
    running_api_url,
    stack_file,
    stack_is_known,
    with_running_stack,
)

# Commands that talk to the stores `make run` started, wherever their ports are.
_ON_THE_STACK = {"seed", "bench", "dead-letters", "recount"}
# ... and those that sign tokens as it does. (The API and the worker take only
# what their environment says.)
_BESIDE_THE_STACK = _ON_THE_STACK | {"token"}

_NO_STACK = (
    "No running `make run` found ({stack} is missing) and the stores are not named: "
    "start `make run` in another terminal, or set TIDINGS_REDIS_URL, TIDINGS_GRAPH_URL "
    "and TIDINGS_MONGO_URI."
)


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    dev = commands.add_parser("dev", help="start the embedded stack, the API and one worker")
    dev.add_argument(
        "--user", default="alice", help="who the GraphiQL link it prints signs in as (alice)"
    )
    dev.add_argument(
        "--graph",
        choices=["falkordb", "neo4j"],
        default="falkordb",
        help="the friend graph's store: FalkorDB in the Redis server (default), or Neo4j 5 "
        "(needs java; `make` builds its launcher)",
    )
    seed = commands.add_parser("seed", help="load a synthetic social graph and post history")
    seed.add_argument("--users", type=int, required=True)
    seed.add_argument("--avg-friends", type=int, default=50)
    seed.add_argument("--celebrities", type=int, default=0)
    seed.add_argument(
        "--celebrity-friends", type=int, default=None, help="default: twice the threshold"
    )
    seed.add_argument("--posts", type=int, default=0)
    seed.add_argument("--prefix", default="u", help="user ids are PREFIX0, PREFIX1, ...")
    bench = commands.add_parser("bench", help="benchmark a running stack against its ceilings")
    bench.add_argument("--url", default=None, help="the API's /graphql URL")
    bench.add_argument("--tiny", action="store_true", help="a seconds-long smoke run")
    bench.add_argument(
        "--size",
        choices=["default", "million"],
        default="default",
        help="million: a stack of its own seeded with a million users (minutes, gigabytes)",
    )
    bench.add_argument(
        "--graph",
        choices=["falkordb", "neo4j"],
        default="falkordb",
        help="with --size million: the graph store of the stack it starts",
    )
    bench.add_argument("--json", action="store_true", help="print the report as JSON")


def settings_for(args: argparse.Namespace, settings: Settings) -> Settings | str:
    """The settings a command runs with beside a dev stack, or why it cannot run."""
    command = args.command
    if command == "bench" and args.size == "million":
        return settings  # it starts a stack of its own
    if command in _ON_THE_STACK and not stack_is_known(settings):
        return _NO_STACK.format(stack=stack_file(settings))
    if command not in _BESIDE_THE_STACK:
        return settings
    return with_running_stack(settings)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "dev":
        from tidings_tools.dev import run_dev

        return run_dev(settings, signed_in_as=args.user, graph=args.graph)
    if args.command == "seed":
        return _seed(settings, args)
    return _bench(settings, args)


def _bench(settings: Settings, args: argparse.Namespace) -> int:
    from tidings_tools.bench import TINY, BenchSize, render, run_bench

    if args.size == "million":
        return _bench_million(settings, args)
    # Tokens must be signed as the running API expects: never invent a secret here.
    secret = settings.hs256_secret()
    if not secret:
        print("Set TIDINGS_JWT_SECRET to the API's secret.", file=sys.stderr)
        return 2
    url = args.url or running_api_url(settings)
    size = TINY if args.tiny else BenchSize()
    logs = settings.data_dir / "logs" / "bench"
    report = asyncio.run(run_bench(settings, url, size, secret, logs))
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        render(report)
    return 0


def _bench_million(settings: Settings, args: argparse.Namespace) -> int:
    from tidings_tools.bench.million import render_million, run_million

    report = run_million(settings, args.graph)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        render_million(report)
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from tidings_tools.seed import SeedConflict, SeedPlan, seed

    plan = SeedPlan(
        users=args.users,
        avg_friends=args.avg_friends,
        celebrities=args.celebrities,
        celebrity_friends=args.celebrity_friends or 2 * settings.celebrity_threshold,
        posts=args.posts,
        prefix=args.prefix,
    )
    started = time.monotonic()
    try:
        with Progress() as progress:
            report = asyncio.run(seed(settings, plan, progress))
    except SeedConflict as conflict:
        print(conflict, file=sys.stderr)
        return 2
    elapsed = time.monotonic() - started
    counts = ", ".join(f"{value:,} {name}" for name, value in report.counts().items())
    phases = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in report.seconds.items())
    print(f"{counts} in {elapsed:.1f}s ({phases})")
    return 0
