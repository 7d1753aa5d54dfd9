"""A tiny, real HTTP ranking service on loopback, for tests of the ranking hook."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest


class RankingService:
    """Answers like a ranking service would: reversed, slowly, broken or garbled."""

    def __init__(self) -> None:
        self.mode = "reverse"
        self.requests: list[dict[str, object]] = []
        self.server: asyncio.Server | None = None
        self.handlers: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            await self._answer(reader, writer)
        finally:
            writer.close()
            self.handlers.discard(task)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        request = json.loads(await reader.readexactly(length))
        self.requests.append(request)
        status, body = 200, b""
        if self.mode == "reverse":
            body = json.dumps(
                {"order": [c["id"] for c in reversed(request["candidates"])]}
            ).encode()
        elif self.mode == "partial":
            body = json.dumps({"order": ["1", "999"]}).encode()
        elif self.mode == "slow":
            await asyncio.sleep(2)
        elif self.mode == "error":
            status, body = 500, b"boom"
        elif self.mode == "garbage":
            body = b"<html>not json</html>"
        response_head = (
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(response_head.encode() + body)
        await writer.drain()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/rank"


@pytest.fixture
async def ranking_service() -> AsyncIterator[RankingService]:
    ranking = RankingService()
    ranking.server = await asyncio.start_server(ranking.handle, "127.0.0.1", 0)
    async with ranking.server:
        yield ranking
        for handler in list(ranking.handlers):
            handler.cancel()
        await asyncio.gather(*ranking.handlers, return_exceptions=True)
