"""The timeline with a ranking service configured: reordered when it answers,
chronological when it does not, and paging exact either way."""

from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import TIMELINE, befriend, post
from tests.ranking_service import RankingService


@pytest.fixture
def overrides(ranking_service: RankingService) -> dict[str, Any]:
    return {"ranking_url": ranking_service.url, "ranking_timeout_ms": 200}


async def page(api: Api, first: int, after: str | None = None) -> dict[str, Any]:
    data = await api.data("alice", TIMELINE, {"first": first, "after": after})
    connection: dict[str, Any] = data["timeline"]
    return connection


async def test_ranked_pages_keep_keyset_paging_exact(
    api: Api,
    ranking_service: RankingService,
) -> None:
    await befriend(api, "alice", "bob")
    ids = [(await post(api, "bob", f"p{i}"))["id"] for i in range(6)]
    newest_first = list(reversed(ids))
    first = await page(api, 3)
    assert [e["node"]["id"] for e in first["edges"]] == list(reversed(newest_first[:3]))
    # The next page starts below the oldest post of this one, whatever the order shown.
    second = await page(api, 3, first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in second["edges"]] == list(reversed(newest_first[3:]))
    assert second["pageInfo"]["hasNextPage"] is False


async def test_a_ranking_service_that_times_out_leaves_the_page_chronological(
    api: Api,
    ranking_service: RankingService,
) -> None:
    ranking_service.mode = "slow"
    await befriend(api, "alice", "bob")
    ids = [(await post(api, "bob", f"p{i}"))["id"] for i in range(3)]
    connection = await page(api, 10)
    assert [e["node"]["id"] for e in connection["edges"]] == list(reversed(ids))
    assert ranking_service.requests  # it was asked, and not waited for
