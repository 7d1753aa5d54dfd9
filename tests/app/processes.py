"""Tidings processes started for real (`tidings worker`, uvicorn), pointed at the
test's own servers and namespace."""

import asyncio
from pathlib import Path

import httpx

from tests.conftest import eventually
from tidings.app.settings import Settings
from tidings_tools.devstack import TIDINGS, environment_for, free_port

REPO = Path(__file__).resolve().parents[2]


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = environment_for(settings) | {"PYTHONPATH": str(REPO)}
    return env | {f"TIDINGS_{key.upper()}": value for key, value in extra.items()}


async def worker_process(settings: Settings, log: Path, **extra: str) -> asyncio.subprocess.Process:
    with log.open("a") as output:
        return await asyncio.create_subprocess_exec(
            TIDINGS, "worker", env=environment(settings, **extra), stdout=output, stderr=output
        )


async def api_process(
    settings: Settings, log: Path, *, log_level: str = "WARNING", **extra: str
) -> tuple[asyncio.subprocess.Process, str]:
    """An API process on a free port; returns it with its base URL once it is ready."""
    port = free_port()
    env = environment(settings, port=str(port), log_level=log_level, **extra)
    with log.open("a") as output:
        process = await asyncio.create_subprocess_exec(
            TIDINGS, "api", env=env, stdout=output, stderr=output
        )
    base = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        async with httpx.AsyncClient() as http:
            try:
                return (await http.get(f"{base}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

    await eventually(up, within=30)
    return process, base
