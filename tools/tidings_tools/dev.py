"""`tidings dev`: the embedded stack, the API and one worker, on loopback, until Ctrl-C."""

import os
import signal
import socket
import sys
import time
import urllib.request
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from tidings.app.auth import issue_token
from tidings.app.settings import Settings
from tidings_tools import devstack, neo4j, object_storage
from tidings_tools.stack import DEV_SECRET_FILE, STACK_FILE, known_jwt_secret, write_stack_file


def dev_secret(settings: Settings) -> str:
    """The known secret, or a new one generated once and kept in the data dir."""
    if secret := known_jwt_secret(settings):
        return secret
    return devstack.kept_secret(settings.data_dir / DEV_SECRET_FILE, 48)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


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


def supervise(children: list[devstack.ChildProcess], stop: "Stop") -> None:
    """Until stopped: a child that exits is started again, after a pause that grows
    while it keeps failing (1 s, 2 s, 4 s... up to 30 s), and it is said so."""
    pauses = {child.name: 1.0 for child in children}
    restart_at: dict[str, float] = {}
    up_since = {child.name: time.monotonic() for child in children}
    while not stop.requested:
        now = time.monotonic()
        for child in children:
            if child.running():
                if now - up_since[child.name] > 60:
                    pauses[child.name] = 1.0  # it has recovered: forget its failures
                continue
            if child.name not in restart_at:
                pause = pauses[child.name]
                print(
                    f"{child.name} exited (code {child.process.returncode}); restarting it "
                    f"in {pause:.0f}s. See {child.log_path}",
                    file=sys.stderr,
                    flush=True,
                )
                restart_at[child.name] = now + pause
                pauses[child.name] = min(30.0, pause * 2)
            elif now >= restart_at[child.name]:
                del restart_at[child.name]
                child.restart()
                up_since[child.name] = now
                print(f"{child.name} restarted", file=sys.stderr, flush=True)
        time.sleep(0.2)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        # As uvicorn binds: a port left in TIME_WAIT by the last run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def run_dev(settings: Settings, signed_in_as: str = "alice", graph: str = "falkordb") -> int:
    data_dir = settings.data_dir
    if port_in_use(settings.host, settings.port):
        # Checked first: another server answering /healthz must not pass for ours.
        print(
            f"Port {settings.port} on {settings.host} is in use (another `make run`?). "
            "Stop it, or pick another: TIDINGS_PORT=8001 make run",
            file=sys.stderr,
        )
        return 1
    env = dict(os.environ)
    env["TIDINGS_JWT_SECRET"] = dev_secret(settings)
    # The explorer and the schema it reads, for this machine's developer only.
    env.setdefault("TIDINGS_GRAPHIQL", "true")
    env.setdefault("TIDINGS_INTROSPECTION", "true")
    stop = Stop()
    servers: list[devstack.ChildProcess] = []
    apps: list[devstack.ChildProcess] = []
    logs = data_dir / "logs"
    try:
        if graph == "neo4j" and "TIDINGS_GRAPH_URL" not in env:
            port = devstack.free_port()
            secret = neo4j.password(data_dir)
            print("Starting Neo4j (about 10 s)...", flush=True)
            servers.append(neo4j.start_neo4j(data_dir / "neo4j", port, logs / "neo4j.log", secret))
            env["TIDINGS_GRAPH_URL"] = neo4j.bolt_url(port, secret)
        if "TIDINGS_REDIS_URL" not in env or "TIDINGS_GRAPH_URL" not in env:
            port = devstack.free_port()
            servers.append(devstack.start_redis(data_dir / "redis", port, logs / "redis.log"))
            env.setdefault("TIDINGS_REDIS_URL", f"redis://127.0.0.1:{port}/0")
            env.setdefault("TIDINGS_GRAPH_URL", f"falkordb://127.0.0.1:{port}/tidings")
        if "TIDINGS_MONGO_URI" not in env:
            port = devstack.free_port()
            servers.append(devstack.start_secantus(data_dir / "mongo", port, logs / "mongo.log"))
            env["TIDINGS_MONGO_URI"] = f"mongodb://127.0.0.1:{port}/tidings"
        media = "media off (TIDINGS_S3_BUCKET unset)"
        if "TIDINGS_S3_BUCKET" not in env:
            if reason := object_storage.unavailable():
                print(f"Photos are off: {reason}.", flush=True)
            else:
                port = devstack.free_port()
                key = object_storage.secret(data_dir)
                servers.append(
                    object_storage.start_versitygw(
                        data_dir / "objects", port, logs / "versitygw.log", key
                    )
                )
                object_storage.create_bucket(port, key)
                env.update(object_storage.settings_for(port, key))
        if "TIDINGS_S3_BUCKET" in env:
            media = f"media s3://{env['TIDINGS_S3_BUCKET']}"
            if endpoint := env.get("TIDINGS_S3_ENDPOINT_URL"):
                media += f" at {endpoint}"
        worker = devstack.ChildProcess(
            "worker", [devstack.TIDINGS, "worker"], logs / "worker.log", env
        )
        apps.append(worker)
        api = devstack.ChildProcess("api", [devstack.TIDINGS, "api"], logs / "api.log", env)
        apps.append(api)
        base = f"http://{settings.host}:{settings.port}"
        api.wait_until(lambda: _http_ok(f"{base}/healthz"), timeout=60)
        write_stack_file(
            data_dir,
            {
                "redis_url": env["TIDINGS_REDIS_URL"],
                "graph_url": env["TIDINGS_GRAPH_URL"],
                "mongo_uri": env["TIDINGS_MONGO_URI"],
                **{
                    name: env[f"TIDINGS_{name.upper()}"]
                    for name in ("s3_bucket", "s3_endpoint_url", "s3_access_key_id")
                    if f"TIDINGS_{name.upper()}" in env
                },
                "api_url": f"{base}/graphql",
                "pid": os.getpid(),
            },
        )
        # The token rides in the fragment, which the browser never sends anywhere.
        token = issue_token(signed_in_as, env["TIDINGS_JWT_SECRET"], settings.token_ttl_seconds)
        shown_graph = _without_password(env["TIDINGS_GRAPH_URL"])
        print(
            f"Tidings is up: {base}/graphql\n"
            f"  GraphiQL, signed in as {signed_in_as}: {base}/graphql#token={token}\n"
            f"  another user: `tidings dev --user bob`, or paste `{devstack.TIDINGS} token bob`\n"
            f"  redis {env['TIDINGS_REDIS_URL']}  graph {shown_graph}"
            f"  mongo {env['TIDINGS_MONGO_URI']}  {media}\n"
            f"  logs in {logs}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        supervise(apps + servers, stop)
        return 0
    finally:
        (data_dir / STACK_FILE).unlink(missing_ok=True)
        # Readers and writers first, so nothing is mid-write when the stores stop.
        for child in reversed(apps):
            child.stop()
        for child in reversed(servers):
            child.stop()
