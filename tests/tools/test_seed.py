"""`tidings seed`: a heavy-tailed graph, its celebrities marked, history in MongoDB."""

import random

import pytest

from tidings.app.settings import Settings
from tidings.app.stores import Stores
from tidings_tools.seed import SeedConflict, SeedPlan, preferential_attachment, seed


def test_preferential_attachment_has_no_loops_or_repeats_and_a_heavy_tail() -> None:
    edges = list(preferential_attachment(2_000, 10, random.Random(1)))
    assert all(a != b for a, b in edges)
    assert len({frozenset(edge) for edge in edges}) == len(edges)
    degrees: dict[int, int] = {}
    for a, b in edges:
        degrees[a] = degrees.get(a, 0) + 1
        degrees[b] = degrees.get(b, 0) + 1
    assert max(degrees.values()) > 5 * (2 * len(edges) / len(degrees))


async def test_seeding_marks_celebrities_and_stores_posts(
    stores: Stores, settings: Settings
) -> None:
    settings = settings.model_copy(update={"celebrity_threshold": 30})
    plan = SeedPlan(users=200, avg_friends=6, celebrities=2, celebrity_friends=40, posts=50)
    counts = await seed(settings, plan)
    assert counts["users"] == 202
    assert counts["posts"] == 50
    assert counts["celebrities"] >= 2
    for celebrity in (plan.celebrity_id(0), plan.celebrity_id(1)):
        assert await stores.graph.is_celebrity(celebrity)
    [summary] = await stores.graph.user_summaries([plan.celebrity_id(0)])
    assert summary is not None
    assert summary.friend_count == 40
    assert not await stores.graph.is_celebrity(plan.user_id(150))
    assert await stores.mongo[settings.namespace]["posts"].count_documents({}) <= 50
    with pytest.raises(SeedConflict):
        await seed(settings, plan)
