from tidings.app.services import Services
from tidings.feed.timeline import TimelineStore


async def test_push_is_idempotent_and_pages_newest_first(services: Services) -> None:
    timelines = services.timelines
    for post_id in (10, 30, 20):
        await timelines.push(post_id, ["alice", "bob"])
    await timelines.push(30, ["alice"])
    assert await timelines.page("alice", None, 10) == [30, 20, 10]
    assert await timelines.page("alice", 30, 1) == [20]
    assert await timelines.page("bob", 10, 10) == []
    assert await timelines.size("alice") == 3


async def test_push_trims_to_the_cap_keeping_the_newest(services: Services) -> None:
    timelines = TimelineStore(services.redis, services.settings.namespace, max_length=5)
    for post_id in range(1, 13):
        await timelines.push(post_id, ["carol"])
    assert await timelines.page("carol", None, 100) == [12, 11, 10, 9, 8]


async def test_large_ids_are_exact(services: Services) -> None:
    big = [2**53 - 1, 2**53 - 2, 2**52 + 1]
    for post_id in big:
        await services.timelines.push(post_id, ["dave"])
    assert await services.timelines.page("dave", None, 10) == sorted(big, reverse=True)
    assert await services.timelines.page("dave", 2**53 - 1, 1) == [2**53 - 2]


async def test_unknown_user_has_an_empty_timeline(services: Services) -> None:
    assert await services.timelines.page("nobody", None, 20) == []
