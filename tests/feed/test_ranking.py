"""The ranking hook against a real (tiny, local) HTTP ranking service: once per
session, with the candidates' signals; the built-in score whenever it fails."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.ranking_service import RankingService
from tidings.feed.ranking import BuiltInScore, RemoteRanker
from tidings.feed.scoring import Signals, ranked

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
# Post 1 is the freshest and best liked: the built-in score puts it first.
CANDIDATES = [
    Signals(1, "author1", NOW - timedelta(minutes=5), affinity=3, likes=10),
    Signals(2, "author2", NOW - timedelta(hours=2)),
    Signals(3, "author3", NOW - timedelta(hours=8)),
]
BUILT_IN = [1, 2, 3]


@pytest.fixture
async def ranker(ranking_service: RankingService) -> AsyncIterator[RemoteRanker]:
    async with httpx.AsyncClient() as client:
        yield RemoteRanker(client, ranking_service.url, timeout_seconds=0.2)


async def test_the_built_in_score_orders_without_a_service() -> None:
    assert ranked(CANDIDATES, NOW) == BUILT_IN
    assert await BuiltInScore().order("alice", CANDIDATES, NOW) == BUILT_IN


async def test_remote_order_is_applied_and_gets_the_signals(
    ranking_service: RankingService, ranker: RemoteRanker
) -> None:
    assert await ranker.order("alice", CANDIDATES, NOW) == [3, 2, 1]
    [request] = ranking_service.requests
    assert request["viewerId"] == "alice"
    assert request["now"] == NOW.isoformat()
    assert request["candidates"][0] == {  # type: ignore[index]
        "id": "1",
        "authorId": "author1",
        "createdAt": (NOW - timedelta(minutes=5)).isoformat(),
        "likes": 10,
        "comments": 0,
        "affinity": 3,
    }
    assert ranker.fallbacks == 0


async def test_unranked_candidates_follow_in_built_in_order_and_unknown_ids_are_ignored(
    ranking_service: RankingService, ranker: RemoteRanker
) -> None:
    ranking_service.mode = "partial"  # answers ["1", "999"]
    assert await ranker.order("alice", list(reversed(CANDIDATES)), NOW) == [1, 2, 3]


@pytest.mark.parametrize("mode", ["slow", "error", "garbage"])
async def test_failures_fall_back_to_the_built_in_score_and_are_counted(
    ranking_service: RankingService, ranker: RemoteRanker, mode: str
) -> None:
    ranking_service.mode = mode
    started = asyncio.get_running_loop().time()
    assert await ranker.order("alice", CANDIDATES, NOW) == BUILT_IN
    assert asyncio.get_running_loop().time() - started < 1.5  # the 2 s answer was not awaited
    assert ranker.fallbacks == 1


async def test_unreachable_service_falls_back() -> None:
    async with httpx.AsyncClient() as client:
        ranker = RemoteRanker(client, "http://127.0.0.1:9/rank", timeout_seconds=0.5)
        assert await ranker.order("alice", CANDIDATES, NOW) == BUILT_IN
    assert ranker.fallbacks == 1
