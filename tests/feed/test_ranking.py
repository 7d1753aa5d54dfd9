"""The ranking hook against a real (tiny, local) HTTP ranking service."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.ranking_service import RankingService
from tidings.feed.ranking import Chronological, RemoteRanker
from tidings.feed.read_model import PostView

POSTS = [
    PostView(i, f"author{i}", f"body {i}", datetime(2026, 5, 1, tzinfo=UTC)) for i in (3, 2, 1)
]


@pytest.fixture
async def ranker(ranking_service: RankingService) -> AsyncIterator[RemoteRanker]:
    async with httpx.AsyncClient() as client:
        yield RemoteRanker(client, ranking_service.url, timeout_seconds=0.2)


async def test_chronological_keeps_the_page_as_it_is() -> None:
    assert await Chronological().rank("alice", POSTS) == POSTS


async def test_remote_order_is_applied(
    ranking_service: RankingService, ranker: RemoteRanker
) -> None:
    assert [p.id for p in await ranker.rank("alice", POSTS)] == [1, 2, 3]
    [request] = ranking_service.requests
    assert request["viewerId"] == "alice"
    assert request["candidates"][0] == {  # type: ignore[index]
        "id": "3",
        "authorId": "author3",
        "createdAt": "2026-05-01T00:00:00+00:00",
    }
    assert ranker.fallbacks == 0


async def test_unranked_candidates_follow_and_unknown_ids_are_ignored(
    ranking_service: RankingService, ranker: RemoteRanker
) -> None:
    ranking_service.mode = "partial"
    assert [p.id for p in await ranker.rank("alice", POSTS)] == [1, 3, 2]


@pytest.mark.parametrize("mode", ["slow", "error", "garbage"])
async def test_failures_fall_back_to_chronological_and_are_counted(
    ranking_service: RankingService, ranker: RemoteRanker, mode: str
) -> None:
    ranking_service.mode = mode
    started = asyncio.get_running_loop().time()
    assert await ranker.rank("alice", POSTS) == POSTS
    assert asyncio.get_running_loop().time() - started < 1.5  # the 2 s answer was not awaited
    assert ranker.fallbacks == 1


async def test_unreachable_service_falls_back() -> None:
    async with httpx.AsyncClient() as client:
        ranker = RemoteRanker(client, "http://127.0.0.1:9/rank", timeout_seconds=0.5)
        assert await ranker.rank("alice", POSTS) == POSTS
    assert ranker.fallbacks == 1
