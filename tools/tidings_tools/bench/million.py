"""`tidings bench --size million`: a million users on one machine, tried as a new user
would try it, and the figures that say what it costs.

On a data dir of its own, it starts `tidings dev` (FalkorDB, or Neo4j with
`--graph neo4j`), seeds it as `tidings seed --users 1000000 --avg-friends 50
--celebrities 5 --posts 1000000` would, stops it and starts it again on its data
(timed from the command to a ready `/readyz`). Then 200 random readers who have not
read since the seed ask for their first page (their timelines are built on that
read), one after another, and again; and each store's memory is read. The stack is
stopped and its data deleted at the end. It takes minutes and gigabytes: it is not
part of `make test`.
"""

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from tidings.app.settings import Settings
from tidings.app.stores import open_stores
from tidings_tools.bench.documents import PAGE
from tidings_tools.bench.measure import latency_summary
from tidings_tools.client import GraphQLClient
from tidings_tools.devstack import TIDINGS, free_port
from tidings_tools.seed import SeedPlan, seed
from tidings_tools.stack import STACK_FILE, known_jwt_secret, with_running_stack

# The store settings a dev stack of our own must not inherit from the caller's.
_STORE_VARIABLES = ("TIDINGS_REDIS_URL", "TIDINGS_GRAPH_URL", "TIDINGS_MONGO_URI")


@dataclass(frozen=True)
class MillionSize:
    users: int = 1_000_000
    avg_friends: int = 50
    celebrities: int = 5
    posts: int = 1_000_000
    readers: int = 200
    start_timeout: float = 600.0


class DevStack:
    """`tidings dev` as a child process, on a data dir and a port of its own."""

    def __init__(self, data_dir: Path, graph: str) -> None:
        self.data_dir = data_dir
        self.graph = graph
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float) -> float:
        """Starts it; the seconds from the command to a ready `/readyz`."""
        env = {key: value for key, value in os.environ.items() if key not in _STORE_VARIABLES}
        env.update(TIDINGS_DATA_DIR=str(self.data_dir), TIDINGS_PORT=str(self.port))
        # The launcher's 256 MB suits tests; 25 million friendships need their store
        # (about 1.5 GB on disk) in memory.
        env.setdefault("NEO4J_PAGECACHE_MB", "4096")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with (self.data_dir / "dev.log").open("ab") as log:
            self.process = subprocess.Popen(
                [TIDINGS, "dev", "--graph", self.graph],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"`tidings dev` exited; see {self.data_dir / 'dev.log'}")
            if self._ready():
                return time.monotonic() - started
            time.sleep(0.05)
        raise TimeoutError(f"`tidings dev` not ready in {timeout:.0f}s")

    def _ready(self) -> bool:
        if not (self.data_dir / STACK_FILE).exists():
            return False
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def settings(self) -> Settings:
        return with_running_stack(Settings(data_dir=self.data_dir, port=self.port))


def _disk_megabytes(path: Path) -> float:
    total = 0
    for file in path.rglob("*"):
        with contextlib.suppress(OSError):
            if file.is_file():
                total += file.stat().st_size
    return round(total / 2**20, 1)


def _resident_megabytes(marker: str) -> float | None:
    """The resident memory of the process whose command line names `marker`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return round(int(line.split()[1]) / 1024, 1)
    return None


async def _memory(settings: Settings, data_dir: Path, graph: str) -> dict[str, Any]:
    async with open_stores(settings) as stores:
        info = await stores.redis.info("memory")
        redis: dict[str, Any] = {
            "used_mb": round(info["used_memory"] / 2**20, 1),
            "rss_mb": round(info["used_memory_rss"] / 2**20, 1),
            "disk_mb": _disk_megabytes(data_dir / "redis"),
        }
        stats = await stores.mongo[settings.namespace].command("dbStats")
    mongo: dict[str, Any] = {
        name: round(stats[name] / 2**20, 1)
        for name in ("dataSize", "storageSize", "indexSize")
        if name in stats
    }
    mongo["rss_mb"] = _resident_megabytes(str(data_dir / "mongo"))
    mongo["disk_mb"] = _disk_megabytes(data_dir / "mongo")
    memory: dict[str, Any] = {
        "redis" if graph == "neo4j" else "redis_with_falkordb": redis,
        "mongodb": mongo,
    }
    if graph == "neo4j":
        memory["neo4j"] = {
            "rss_mb": _resident_megabytes(str(data_dir / "neo4j")),
            "disk_mb": _disk_megabytes(data_dir / "neo4j"),
        }
    return memory


async def _pages(
    stack: DevStack, settings: Settings, readers: list[str]
) -> dict[str, dict[str, Any]]:
    secret = known_jwt_secret(settings)
    if secret is None:
        raise RuntimeError("the dev stack's secret is missing")
    async with httpx.AsyncClient(timeout=60) as http:
        api = GraphQLClient(http, f"{stack.base_url}/graphql", secret)
        figures: dict[str, dict[str, Any]] = {}
        for name in ("first_read", "second_read"):
            times: list[float] = []
            posts = 0
            for reader in readers:
                started = time.perf_counter()
                data = await api.data(reader, PAGE)
                times.append((time.perf_counter() - started) * 1000)
                posts += len(data["timeline"]["edges"])
            figures[name] = {**latency_summary(times), "posts_per_page": posts / len(readers)}
    return figures


def run_million(settings: Settings, graph: str, size: MillionSize | None = None) -> dict[str, Any]:
    size = size or MillionSize()
    data_dir = settings.data_dir / "bench-million" / graph
    shutil.rmtree(data_dir, ignore_errors=True)
    stack = DevStack(data_dir, graph)
    report: dict[str, Any] = {"size": asdict(size), "graph": graph, "data_dir": str(data_dir)}
    try:
        report["first_start_s"] = round(stack.start(size.start_timeout), 2)
        plan = SeedPlan(
            users=size.users,
            avg_friends=size.avg_friends,
            celebrities=size.celebrities,
            celebrity_friends=2 * settings.celebrity_threshold,
            posts=size.posts,
        )
        started = time.monotonic()
        seeded = asyncio.run(seed(stack.settings(), plan))
        report["seed"] = {
            **seeded.counts(),
            "seconds": round(time.monotonic() - started, 1),
            "phases": seeded.seconds,
        }
        report["memory_after_seed"] = asyncio.run(_memory(stack.settings(), data_dir, graph))
        stack.stop()
        report["restart_to_ready_s"] = round(stack.start(size.start_timeout), 2)
        readers = [
            plan.user_id(i) for i in random.Random(11).sample(range(size.users), size.readers)
        ]
        report["pages"] = asyncio.run(_pages(stack, stack.settings(), readers))
        report["memory"] = asyncio.run(_memory(stack.settings(), data_dir, graph))
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return report


def render_million(report: dict[str, Any]) -> None:
    seed_figures = report["seed"]
    phases = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in seed_figures["phases"].items())
    print(f"A million users on {report['graph']}")
    print(
        f"  seed: {seed_figures['users']:,} users, {seed_figures['friendships']:,} friendships, "
        f"{seed_figures['posts']:,} posts in {seed_figures['seconds']:.0f}s ({phases})"
    )
    print(f"  restart to a ready /readyz: {report['restart_to_ready_s']:.1f}s")
    for name, figures in report["pages"].items():
        print(
            f"  {name.replace('_', ' ')} of {report['size']['readers']} readers: "
            f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
            f"{figures['posts_per_page']:.1f} posts a page"
        )
    for store, figures in report["memory"].items():
        shown = ", ".join(f"{name} {value}" for name, value in figures.items())
        print(f"  {store}: {shown}")
