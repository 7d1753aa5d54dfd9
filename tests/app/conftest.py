"""The API through its ASGI app, with a real fan-out worker beside it."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from tests.conftest import JWT_SECRET, drop_namespace
from tidings.app import components
from tidings.app.api import create_app
from tidings.app.auth import issue_token
from tidings.app.settings import Settings
from tidings.app.stores import Stores, open_stores
from tidings.app.worker import run_worker
from tidings.feed.keys import Keys
from tidings.feed.queue import FanoutQueue
from tidings.feed.timeline import TimelineStore
from tidings.resolvers.page_builder import BatchStep
from tidings.schema.post_features import POST_STEPS
from tidings_tools.client import GraphQLClient


@dataclass
class Api:
    """The API as a client sees it, and its stores as a test inspects them."""

    client: GraphQLClient
    http: httpx.AsyncClient
    stores: Stores
    settings: Settings
    keys: Keys
    timelines: TimelineStore
    queue: FanoutQueue

    async def call(
        self, user: str | None, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.client.call(user, query, variables)

    async def data(
        self, user: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.client.data(user, query, variables)

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
def post_steps() -> tuple[BatchStep[Any, Any], ...]:
    """The batch steps a test module's API builds pages with."""
    return POST_STEPS


@pytest.fixture
async def api(
    settings: Settings,
    overrides: dict[str, Any],
    post_steps: tuple[BatchStep[Any, Any], ...],
) -> AsyncIterator[Api]:
    settings = settings.model_copy(update=overrides)
    app = create_app(settings, post_steps)
    stop = asyncio.Event()
    try:
        async with LifespanManager(app) as manager, open_stores(settings) as stores:
            worker = asyncio.create_task(run_worker(settings, stop))
            transport = httpx.ASGITransport(app=manager.app)
            keys = Keys(settings.namespace)
            async with httpx.AsyncClient(transport=transport, base_url="http://tidings") as http:
                yield Api(
                    client=GraphQLClient(http, "/graphql", JWT_SECRET, ttl_seconds=600),
                    http=http,
                    stores=stores,
                    settings=settings,
                    keys=keys,
                    timelines=components.timeline_store(stores, settings, keys),
                    queue=components.fanout_queue(stores, settings, keys),
                )
            stop.set()
            await asyncio.wait_for(worker, 10)
    finally:
        await drop_namespace(settings)
