"""A live API for tools outside Python: Node.js scripts (graphql-http's audit,
GraphiQL driven in Debian's Chromium by playwright-core) run against it.

`make` installs their packages (`npm ci`) where npm exists. Without Node.js, the
packages or Chromium these tests skip, saying which is missing;
`TIDINGS_REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure instead.
"""

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.live_server import served
from tests.needs import unavailable
from tidings.app.settings import Settings
from tidings.app.worker import run_worker

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def require(condition: bool, missing: str) -> None:
    if not condition:
        unavailable(missing, required_by="TIDINGS_REQUIRE_BROWSER")


def require_node_package(name: str) -> None:
    require(shutil.which("node") is not None, "Node.js (`node`) is not on PATH")
    require(
        (ROOT / "node_modules" / name / "package.json").exists(),
        f"the npm package {name} is not installed (`make` runs `npm ci` where npm exists)",
    )


async def run_node(script: str, *args: str) -> Any:
    """Runs one of this folder's scripts; its last stdout line is its JSON report."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPTS / script),
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 45)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode()[-3000:]
    return json.loads(out.decode().strip().splitlines()[-1])


@pytest.fixture
async def live_url(settings: Settings, stores: object) -> AsyncIterator[str]:
    """The API over real HTTP and WebSocket with GraphiQL on, and a worker beside it."""
    settings = settings.model_copy(update={"graphiql": True, "introspection": True})
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop))
    try:
        async with served(settings) as socket_url:
            yield socket_url.replace("ws://", "http://", 1)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
