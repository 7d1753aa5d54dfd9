"""The `tidings` command: dev, api, worker, token."""

import argparse
import asyncio
import os
import secrets
import signal
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from tidings.app import devstack
from tidings.app.auth import issue_token
from tidings.app.logs import configure_logging
from tidings.app.settings import Settings
from tidings.feed.users import is_user_id

SECRET_FILE = "jwt-secret"


def known_secret(data_dir: Path) -> str | None:
    """TIDINGS_JWT_SECRET, or the one `tidings dev` keeps in the data dir, if any."""
    if from_env := os.environ.get("TIDINGS_JWT_SECRET"):
        return from_env
    path = data_dir / SECRET_FILE
    return path.read_text().strip() if path.exists() else None


def dev_secret(data_dir: Path) -> str:
    """The known secret, or a new one generated once and kept in the data dir."""
    if secret := known_secret(data_dir):
        return secret
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class Stop:
    def __init__(self) -> None:
        self.requested = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True


def run_dev() -> int:
    settings = Settings()
    data_dir = settings.data_dir
    env = dict(os.environ)
    env["TIDINGS_JWT_SECRET"] = dev_secret(data_dir)
    stop = Stop()
    servers: list[devstack.ChildProcess] = []
    apps: list[devstack.ChildProcess] = []
    logs = data_dir / "logs"
    try:
        if "TIDINGS_REDIS_URL" not in env or "TIDINGS_GRAPH_URL" not in env:
            port = devstack.free_port()
            servers.append(devstack.start_redis(data_dir / "redis", port, logs / "redis.log"))
            env.setdefault("TIDINGS_REDIS_URL", f"redis://127.0.0.1:{port}/0")
            env.setdefault("TIDINGS_GRAPH_URL", f"falkordb://127.0.0.1:{port}/tidings")
        if "TIDINGS_MONGO_URI" not in env:
            port = devstack.free_port()
            servers.append(devstack.start_secantus(data_dir / "mongo", port, logs / "mongo.log"))
            env["TIDINGS_MONGO_URI"] = f"mongodb://127.0.0.1:{port}/tidings"
        python = sys.executable
        worker = devstack.ChildProcess(
            "worker", [python, "-m", "tidings.app.cli", "worker"], logs / "worker.log", env
        )
        apps.append(worker)
        api = devstack.ChildProcess(
            "api", [python, "-m", "tidings.app.cli", "api"], logs / "api.log", env
        )
        apps.append(api)
        base = f"http://{settings.host}:{settings.port}"
        api.wait_until(lambda: _http_ok(f"{base}/healthz"), timeout=60)
        print(
            f"Tidings is up: {base}/graphql (GraphiQL in a browser)\n"
            f"  redis/graph {env['TIDINGS_REDIS_URL']}  mongo {env['TIDINGS_MONGO_URI']}\n"
            f"  logs in {logs}; a token: tidings token alice\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while not stop.requested:
            if exited := [child for child in apps + servers if not child.running()]:
                print(f"{exited[0].name} exited; see {exited[0].log_path}", file=sys.stderr)
                return 1
            time.sleep(0.2)
        return 0
    finally:
        # Readers and writers first, so nothing is mid-write when the stores stop.
        for child in reversed(apps):
            child.stop()
        for child in reversed(servers):
            child.stop()


def run_token(user_id: str, ttl: int) -> int:
    settings = Settings()
    if not is_user_id(user_id):
        print("A user id is 1 to 64 letters, digits, '_' or '-'.", file=sys.stderr)
        return 2
    secret = known_secret(settings.data_dir)
    if not secret:
        print("Set TIDINGS_JWT_SECRET, or run `tidings dev` once.", file=sys.stderr)
        return 2
    print(issue_token(user_id, secret, ttl))
    return 0


async def dead_letters(settings: Settings, replay: list[str], replay_all: bool) -> int:
    from tidings.app.services import open_services

    async with open_services(settings) as services:
        queue = services.queue
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


def run_bench_command(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from tidings.app.bench import TINY, BenchSize, render, run_bench

    # Tokens must be signed as the running API expects: never invent a secret here.
    secret = known_secret(settings.data_dir)
    if not secret:
        print("Set TIDINGS_JWT_SECRET to the API's secret.", file=sys.stderr)
        return 2
    url = args.url or f"http://{settings.host}:{settings.port}/graphql"
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

    from tidings.app.seed import SeedConflict, SeedPlan, seed

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tidings", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="start the embedded stack, the API and one worker")
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
    commands.add_parser("api", help="serve the GraphQL API on TIDINGS_HOST:TIDINGS_PORT")
    commands.add_parser("worker", help="run a fan-out worker")
    dead = commands.add_parser(
        "dead-letters", help="list fan-out messages that kept failing, or replay them"
    )
    dead.add_argument("--replay", nargs="*", default=[], metavar="ID", help="replay these")
    dead.add_argument("--replay-all", action="store_true", help="replay every dead letter")
    token = commands.add_parser("token", help="print a bearer token for a user")
    token.add_argument("user_id")
    token.add_argument(
        "--ttl", type=int, default=None, help="seconds until it expires (TIDINGS_TOKEN_TTL_SECONDS)"
    )
    args = parser.parse_args(argv)

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "dev":
        return run_dev()
    if args.command == "token":
        return run_token(args.user_id, args.ttl or settings.token_ttl_seconds)
    if args.command == "bench":
        return run_bench_command(settings, args)
    if args.command == "seed":
        return run_seed(settings, args)
    if args.command == "api":
        from tidings.app.server import serve_api

        return serve_api(settings)
    if args.command == "dead-letters":
        return asyncio.run(dead_letters(settings, args.replay, args.replay_all))
    from tidings.app.worker import main as worker_main

    asyncio.run(worker_main(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
