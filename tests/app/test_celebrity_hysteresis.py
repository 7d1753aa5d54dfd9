"""A friendship toggled at the celebrity threshold costs nothing but the toggle."""

from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import REMOVE, befriend
from tests.graphs import ON_BOTH_GRAPHS
from tidings.feed.queue import FanoutQueue

# The graph is what these tests are about: they run on FalkorDB and on Neo4j.
pytestmark = ON_BOTH_GRAPHS


@pytest.fixture
def overrides() -> dict[str, Any]:
    # A celebrity at 5 friends, pushed again only below 4.
    return {"celebrity_threshold": 5, "celebrity_hysteresis": 0.8}


async def test_toggling_at_the_threshold_demotes_and_backfills_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.settings.celebrity_demote_below == 4
    backfills: list[str] = []
    real = FanoutQueue.enqueue_backfill

    async def counted(self: FanoutQueue, author_id: str) -> str:
        backfills.append(author_id)
        return await real(self, author_id)

    monkeypatch.setattr(FanoutQueue, "enqueue_backfill", counted)
    await befriend(api, "star", "f1", "f2", "f3", "f4")
    assert not await api.stores.graph.is_celebrity("star")
    await befriend(api, "star", "f5")
    assert await api.stores.graph.is_celebrity("star")
    for _ in range(10):
        await api.data("f5", REMOVE, {"id": "star"})  # 4 friends: not below 4
        await befriend(api, "f5", "star")
    assert backfills == []
    assert await api.stores.graph.is_celebrity("star")
    for fan in ("f5", "f4"):  # 3 friends: well below the threshold now
        await api.data(fan, REMOVE, {"id": "star"})
    assert backfills == ["star"]
    assert not await api.stores.graph.is_celebrity("star")
