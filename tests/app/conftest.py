"""The API through its ASGI app, with a real fan-out worker beside it."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from tests.conftest import JWT_SECRET, drop_namespace
from tidings.app.asgi import create_app
from tidings.app.auth import issue_token
from tidings.app.services import Services, open_services
from tidings.app.settings import Settings
from tidings.app.worker import run_worker


@dataclass
class Api:
    http: httpx.AsyncClient
    services: Services

    async def call(
        self, user: str | None, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        headers = {} if user is None else {"Authorization": f"Bearer {token(user)}"}
        # Encoded by hand, as a client would, so lone surrogates travel as escapes.
        payload = json.dumps({"query": query, "variables": variables or {}})
        headers["Content-Type"] = "application/json"
        response = await self.http.post("/graphql", content=payload, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, user: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = await self.call(user, query, variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def error_code(
        self, user: str | None, query: str, variables: dict[str, Any] | None = None
    ) -> str:
        body = await self.call(user, query, variables)
        [error] = body["errors"]
        code: str = error["extensions"]["code"]
        return code


def token(user: str) -> str:
    return issue_token(user, JWT_SECRET, 600)


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test module changes for its API, e.g. a small celebrity threshold."""
    return {}


@pytest.fixture
async def api(settings: Settings, overrides: dict[str, Any]) -> AsyncIterator[Api]:
    settings = settings.model_copy(update=overrides)
    app = create_app(settings)
    stop = asyncio.Event()
    try:
        async with LifespanManager(app) as manager, open_services(settings) as services:
            worker = asyncio.create_task(run_worker(settings, stop))
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://tidings") as http:
                yield Api(http, services)
            stop.set()
            await asyncio.wait_for(worker, 10)
    finally:
        await drop_namespace(settings)
