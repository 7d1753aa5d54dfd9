"""The API served by a real uvicorn on a loopback port, and a real WebSocket client."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from tidings.app.server import uvicorn_config
from tidings.app.settings import Settings
from tidings_tools.devstack import free_port

PROTOCOL = "graphql-transport-ws"


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[str]:
    """Serves the app in this event loop; yields its ws:// URL."""
    port = free_port()
    config = uvicorn_config(settings.model_copy(update={"log_level": "WARNING"}), port=port)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class GraphQLSocket:
    """graphql-transport-ws spoken by hand, to check every frame and close code."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, within: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), within)
        message: dict[str, Any] = json.loads(raw)
        return message

    async def init(self, token: str | None) -> dict[str, Any]:
        payload = {} if token is None else {"Authorization": f"Bearer {token}"}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, operation_id: str, query: str) -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query}})

    async def next_post(self, operation_id: str = "1", within: float = 5.0) -> dict[str, Any]:
        message = await self.receive(within)
        assert message["type"] == "next", message
        assert message["id"] == operation_id
        post: dict[str, Any] = message["payload"]["data"]["timelinePost"]
        return post

    async def closed_with(self, within: float = 5.0) -> int | None:
        await asyncio.wait_for(self.connection.wait_closed(), within)
        return self.connection.close_code


@asynccontextmanager
async def socket(url: str) -> AsyncIterator[GraphQLSocket]:
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=5) as connection:  # type: ignore[list-item]
        yield GraphQLSocket(connection)
