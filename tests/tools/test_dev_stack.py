"""`tidings dev` and `tidings token` as a user runs them: real processes, real signals."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.graphs import require_neo4j
from tidings_tools.devstack import TIDINGS, environment_for, free_port


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = set(), [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            found.add(child)
            frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def command(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")


def graphql(port: int, token: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def wait_for_timeline(port: int, token: str, post_ids: list[str], *, within: float) -> None:
    """Until the timeline holds exactly these posts: fan-out is asynchronous."""
    deadline = time.monotonic() + within
    while True:
        page = graphql(port, token, "{ timeline { edges { node { id } } } }")
        if [edge["node"]["id"] for edge in page["timeline"]["edges"]] == post_ids:
            return
        assert time.monotonic() < deadline, page
        time.sleep(0.05)


def token(env: dict[str, str], user: str) -> str:
    return subprocess.run(
        [TIDINGS, "token", user], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


class DevStack:
    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [TIDINGS, "dev", *args], env=env, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 90
        try:
            while "Tidings is up" not in log.read_text():
                assert self.process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        except AssertionError:
            self.process.terminate()  # its children follow it (parent-death signal)
            self.process.wait(60)
            raise
        self.children = descendants(self.process.pid)

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(60)


@pytest.fixture
def started() -> Iterator[list[DevStack]]:
    """Stacks the test starts; any it leaves running (a failed assertion) are stopped."""
    stacks: list[DevStack] = []
    yield stacks
    for stack in stacks:
        if stack.process.poll() is None:
            stack.process.send_signal(signal.SIGTERM)
            try:
                stack.process.wait(60)
            except subprocess.TimeoutExpired:
                stack.process.kill()
                stack.process.wait()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_dev_stack_serves_stops_cleanly_and_keeps_data(
    tmp_path: Path, started: list[DevStack]
) -> None:
    port = free_port()
    env = environment_for()
    env |= {"TIDINGS_DATA_DIR": str(tmp_path / "data"), "TIDINGS_PORT": str(port)}

    stack = DevStack(env, tmp_path / "first.log")
    started.append(stack)
    # redis-server, SecantusDB, the API and the worker, at least.
    assert len(stack.children) >= 4
    alice, bob = token(env, "alice"), token(env, "bob")
    graphql(port, alice, 'mutation { addFriend(userId: "bob") { id } }')
    graphql(port, bob, 'mutation { addFriend(userId: "alice") { id } }')
    created = graphql(port, bob, 'mutation { createPost(input: {body: "hi"}) { post { id } } }')
    post_id = created["createPost"]["post"]["id"]
    wait_for_timeline(port, alice, [post_id], within=10)
    assert stack.stop(signal.SIGINT) == 0
    assert not [pid for pid in stack.children if alive(pid)]

    # Same data dir, same secret: the old token still works and the post is still there.
    again = DevStack(env, tmp_path / "second.log")
    started.append(again)
    page = graphql(port, alice, "{ timeline { edges { node { id body } } } }")
    assert page["timeline"]["edges"] == [{"node": {"id": post_id, "body": "hi"}}]

    # Other commands find the stores of the running stack by themselves.
    tool_env = {k: v for k, v in env.items() if k not in {"TIDINGS_PORT"}}
    listing = subprocess.run(
        [TIDINGS, "dead-letters"], env=tool_env, capture_output=True, text=True, timeout=60
    )
    assert (listing.returncode, listing.stdout.strip()) == (0, "no dead letters"), listing.stderr

    # A crashed API is restarted, and the terminal says so.
    [api] = [pid for pid in again.children if command(pid)[-1:] == [b"api"]]
    os.kill(api, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while "api restarted" not in (tmp_path / "second.log").read_text():
        assert time.monotonic() < deadline, (tmp_path / "second.log").read_text()
        time.sleep(0.1)
    while True:
        try:
            page = graphql(port, alice, "{ timeline { edges { node { id body } } } }")
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert page["timeline"]["edges"] == [{"node": {"id": post_id, "body": "hi"}}]
    assert "api exited (code -9); restarting it in 1s" in (tmp_path / "second.log").read_text()
    again.children = descendants(again.process.pid)
    assert again.stop(signal.SIGTERM) == 0
    assert not [pid for pid in again.children if alive(pid)]


@pytest.mark.neo4j
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_dev_stack_runs_on_neo4j(tmp_path: Path, started: list[DevStack]) -> None:
    require_neo4j()
    port = free_port()
    env = environment_for()
    env |= {"TIDINGS_DATA_DIR": str(tmp_path / "data"), "TIDINGS_PORT": str(port)}
    stack = DevStack(env, tmp_path / "dev.log", "--graph", "neo4j", "--user", "bob")
    started.append(stack)
    printed = (tmp_path / "dev.log").read_text()
    assert "GraphiQL, signed in as bob:" in printed
    assert ":***@" in printed  # the graph's password is not printed
    state = tmp_path / "data" / "stack.json"
    assert json.loads(state.read_text())["graph_url"].startswith("bolt://neo4j:")
    assert state.stat().st_mode & 0o077 == 0  # it holds that password

    alice, bob = token(env, "alice"), token(env, "bob")
    graphql(port, alice, 'mutation { addFriend(userId: "bob") { id } }')
    friends = graphql(port, bob, 'mutation { addFriend(userId: "alice") { friendship } }')
    assert friends == {"addFriend": {"friendship": "FRIENDS"}}
    created = graphql(
        port, bob, 'mutation { createPost(input: {body: "on neo4j"}) { post { id } } }'
    )
    post_id = created["createPost"]["post"]["id"]
    # The worker read bob's friends from Neo4j to deliver it.
    wait_for_timeline(port, alice, [post_id], within=20)
    assert stack.stop(signal.SIGINT) == 0
    assert not [pid for pid in stack.children if alive(pid)]


def test_token_needs_a_secret_and_a_valid_user(tmp_path: Path) -> None:
    env = environment_for()
    env["TIDINGS_DATA_DIR"] = str(tmp_path)
    missing = subprocess.run([TIDINGS, "token", "alice"], env=env, capture_output=True, text=True)
    assert missing.returncode == 2
    assert "TIDINGS_JWT_SECRET" in missing.stderr
    env["TIDINGS_JWT_SECRET"] = "s" * 40
    bad = subprocess.run([TIDINGS, "token", "not valid"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2
    env["TIDINGS_TOKEN_TTL_SECONDS"] = "120"
    claims = jwt.decode(token(env, "alice"), "s" * 40, algorithms=["HS256"])
    assert (claims["sub"], claims["exp"] - claims["iat"]) == ("alice", 120)


def test_tools_without_a_running_stack_say_what_to_do(tmp_path: Path) -> None:
    env = environment_for()
    env["TIDINGS_DATA_DIR"] = str(tmp_path)
    for command in (["dead-letters"], ["bench", "--tiny"], ["seed", "--users", "1"]):
        result = subprocess.run([TIDINGS, *command], env=env, capture_output=True, text=True)
        assert result.returncode == 2, result.stderr
        assert "make run" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_said_plainly_and_nothing_claims_to_be_up(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = environment_for()
        env |= {"TIDINGS_DATA_DIR": str(tmp_path / "data"), "TIDINGS_PORT": str(port)}
        result = subprocess.run(
            [TIDINGS, "dev"], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert f"Port {port}" in result.stderr
    assert "Tidings is up" not in result.stdout
