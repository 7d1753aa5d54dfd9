"""SIGTERM lets an API process finish the requests in flight, then exit 0."""

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.app.conftest import token
from tests.app.processes import api_process, environment
from tests.conftest import drop_namespace, eventually
from tests.ranking_service import RankingService
from tidings.app.settings import Settings
from tidings_tools.devstack import TIDINGS, free_ports_in_a_row

# Ranked: its session asks the ranking service, which keeps the request in flight.
TIMELINE = "{ timeline(order: RANKED) { edges { node { id body } } } }"


async def test_sigterm_finishes_requests_in_flight(
    settings: Settings, ranking_service: RankingService, tmp_path: Path
) -> None:
    # A ranking service that takes 2 s keeps a timeline request in flight.
    api, base = await api_process(
        settings,
        tmp_path / "api.log",
        ranking_url=ranking_service.url,
        ranking_timeout_ms="5000",
    )
    try:
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            headers = {"Authorization": f"Bearer {token('alice')}"}
            for body in ("one", "two"):
                mutation = (
                    f'mutation {{ createPost(input: {{body: "{body}"}}) {{ post {{ id }} }} }}'
                )
                await http.post("/graphql", json={"query": mutation}, headers=headers)
            ranking_service.mode = "slow"
            in_flight = asyncio.create_task(
                http.post("/graphql", json={"query": TIMELINE}, headers=headers)
            )
            while not ranking_service.requests:  # noqa: ASYNC110  (another process's doing)
                await asyncio.sleep(0.01)
            api.terminate()
            response = await in_flight
        assert response.status_code == 200
        edges = response.json()["data"]["timeline"]["edges"]
        assert [edge["node"]["body"] for edge in edges] == ["two", "one"]
        assert await asyncio.wait_for(api.wait(), 20) == 0
    finally:
        if api.returncode is None:
            api.kill()
            await api.wait()
        await drop_namespace(settings)


async def test_every_log_line_is_json_uvicorns_included(settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    api, _base = await api_process(settings, log, log_level="INFO")
    api.terminate()
    assert await asyncio.wait_for(api.wait(), 20) == 0
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    loggers = {entry["logger"] for entry in entries}
    assert any(name.startswith("uvicorn") for name in loggers), loggers
    assert any("Application startup complete" in entry["message"] for entry in entries)


async def probe(settings: Settings, port: str) -> int:
    process = await asyncio.create_subprocess_exec(
        TIDINGS,
        "probe",
        env=environment(settings, port=port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), 20)


async def test_api_workers_share_the_port_and_stop_together(
    settings: Settings, tmp_path: Path
) -> None:
    # Each process takes the first free port from here on: both must be free.
    metrics = free_ports_in_a_row(2)
    api, base = await api_process(
        settings, tmp_path / "api.log", api_workers="2", api_metrics_port=str(metrics)
    )
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            headers = {"Authorization": f"Bearer {token('alice')}"}
            for _ in range(10):
                answer = await http.post(
                    "/graphql", json={"query": "{ viewer { id } }"}, headers=headers
                )
                assert answer.json() == {"data": {"viewer": {"id": "alice"}}}

            async def serving(port: int) -> bool:
                try:
                    return (await http.get(f"http://127.0.0.1:{port}/metrics")).status_code == 200
                except httpx.TransportError:
                    return False

            # Two processes: each took a metrics port of its own, the first two free.
            await eventually(lambda: serving(metrics))
            await eventually(lambda: serving(metrics + 1))
        # The containers' health check: /readyz on TIDINGS_PORT.
        port = base.rsplit(":", 1)[1]
        assert await probe(settings, port) == 0
        api.terminate()
        assert await asyncio.wait_for(api.wait(), 20) == 0
        assert await probe(settings, port) == 1
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.TransportError):
                await http.get(f"{base}/healthz")  # no process left serving
    finally:
        if api.returncode is None:
            api.kill()
            await api.wait()
        await drop_namespace(settings)
