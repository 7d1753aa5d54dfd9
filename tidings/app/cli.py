"""The `tidings` command: api, worker, probe, token, dead-letters; and, where the
tooling (`tools/`, a distribution of its own) is installed beside it, dev, seed and
bench, with every command finding a running dev stack's stores and secret."""

import argparse
import asyncio
import sys
from types import ModuleType

from tidings.app.auth import issue_token
from tidings.app.logs import configure_logging
from tidings.app.settings import Settings
from tidings.feed.keys import Keys
from tidings.feed.queue import FanoutQueue
from tidings.feed.users import is_user_id
from tidings.stores.redis import connect_redis

_TOOLING_COMMANDS = ("dev", "seed", "bench")
_NO_TOOLING = (
    "`tidings {command}` is tooling: run it from a source checkout with the tooling "
    "installed, `pip install -e './tools[embedded]'` (make run and make test do)."
)


def _tooling() -> ModuleType | None:
    """The tooling's commands, where it is installed (never in a production image)."""
    try:
        from tidings_tools import commands
    except ModuleNotFoundError as missing:
        if missing.name != "tidings_tools":
            raise
        return None
    return commands


def run_token(settings: Settings, user_id: str, ttl: int) -> int:
    if not is_user_id(user_id):
        print("A user id is 1 to 64 letters, digits, '_' or '-'.", file=sys.stderr)
        return 2
    secret = settings.hs256_secret()
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


async def recount(settings: Settings) -> int:
    """Recomputes stored counts from the likes and comments; reports any drift."""
    from tidings.app.stores import open_stores

    async with open_stores(settings) as stores:
        drifted = {
            "likeCount": await stores.likes.recount(),
            "commentCount": await stores.comments.recount(),
        }
    repaired = 0
    for field, posts in drifted.items():
        for post_id, (stored, actual) in sorted(posts.items()):
            print(f"post {post_id}: {field} was {stored}, is {actual}")
            repaired += 1
    print(f"{repaired} counts repaired" if repaired else "no drift: every count was right")
    return 0


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


def parser(tooling: ModuleType | None = None) -> argparse.ArgumentParser:
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
    commands.add_parser(
        "recount", help="recompute stored like and comment counts, and report any drift"
    )
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
    if tooling is not None:
        tooling.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tooling = _tooling()
    if tooling is None and argv and argv[0] in _TOOLING_COMMANDS:
        print(_NO_TOOLING.format(command=argv[0]), file=sys.stderr)
        return 2
    args = parser(tooling).parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if tooling is not None:
        found = tooling.settings_for(args, settings)
        if isinstance(found, str):
            print(found, file=sys.stderr)
            return 2
        settings = found
        if args.command in _TOOLING_COMMANDS:
            return int(tooling.run(settings, args))
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
    if args.command == "recount":
        return asyncio.run(recount(settings))
    from tidings.app.worker import main as worker_main

    asyncio.run(worker_main(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
