import time

import pytest

from tidings.app.settings import Settings
from tidings.app.stores import Stores
from tidings.feed.keys import Keys
from tidings.feed.timeline import Delivery, TimelineStore

DAY = 86_400.0


def store(stores: Stores, settings: Settings, cap: int, readers_per_call: int) -> TimelineStore:
    """A store configured as the roles configure theirs for this Redis."""
    return TimelineStore(
        stores.redis,
        Keys(settings.namespace),
        cap,
        3_600,
        readers_per_call=readers_per_call,
    )


async def ids(timelines: TimelineStore, user: str, before: int | None = None) -> list[int]:
    return (await timelines.read(user, before, 1_000)).post_ids


@pytest.mark.parametrize("readers_per_call", [1, 2, 250])
async def test_fan_out_reaches_only_built_timelines_of_active_readers(
    stores: Stores, settings: Settings, keys: Keys, readers_per_call: int
) -> None:
    timelines = store(stores, settings, 800, readers_per_call)
    now = time.time()
    await timelines.build("active", [], now)
    await timelines.build("away", [], now - 10 * DAY)
    await stores.redis.set(keys.last_read("lost"), now)  # read recently, but its timeline is gone
    delivered = await timelines.fan_out(42, ["active", "away", "lost", "never"], now - 7 * DAY)
    assert delivered == 1
    assert await ids(timelines, "active") == [42]
    assert await ids(timelines, "away") == []
    assert not (await timelines.read("lost", None, 10)).built
    assert not (await timelines.read("never", None, 10)).built


async def test_fan_out_is_idempotent_and_pages_newest_first(timelines: TimelineStore) -> None:
    await timelines.build("alice", [], time.time())
    for post_id in (10, 30, 20, 30):
        await timelines.fan_out(post_id, ["alice"], 0)
    assert await ids(timelines, "alice") == [30, 20, 10]
    assert await ids(timelines, "alice", before=30) == [20, 10]
    assert (await timelines.read("alice", 30, 1)).post_ids == [20]
    assert await timelines.size("alice") == 3
    assert await timelines.oldest("alice") == 10


async def test_cap_keeps_the_newest_and_the_built_mark(stores: Stores, settings: Settings) -> None:
    timelines = store(stores, settings, 5, 250)
    await timelines.build("carol", list(range(1, 9)), time.time())
    assert await ids(timelines, "carol") == [8, 7, 6, 5, 4]
    for post_id in range(9, 13):
        await timelines.fan_out(post_id, ["carol"], 0)
    assert await timelines.add("carol", [13])
    assert await ids(timelines, "carol") == [13, 12, 11, 10, 9]
    assert (await timelines.read("carol", None, 1)).built


async def test_add_and_remove(timelines: TimelineStore) -> None:
    assert await timelines.add("nobody", [1, 2]) is False
    assert not (await timelines.read("nobody", None, 10)).built
    await timelines.build("dave", [5], time.time())
    assert await timelines.add("dave", [7, 6]) is True
    await timelines.remove("dave", [6, 99])
    await timelines.remove_from_many(7, ["dave", "nobody"])
    assert await ids(timelines, "dave") == [5]


async def test_large_ids_are_exact(timelines: TimelineStore) -> None:
    big = [2**53 - 1, 2**53 - 2, 2**52 + 1]
    await timelines.build("erin", big, time.time())
    assert await ids(timelines, "erin") == sorted(big, reverse=True)
    assert await ids(timelines, "erin", before=2**53 - 1) == [2**53 - 2, 2**52 + 1]


async def test_read_reports_state_in_one_round_trip(timelines: TimelineStore) -> None:
    empty = await timelines.read("frank", None, 10)
    assert (empty.built, empty.last_read, empty.post_ids) == (False, None, [])
    await timelines.build("frank", [], 1_000.5)
    built = await timelines.read("frank", None, 10)
    assert (built.built, built.last_read, built.post_ids) == (True, 1_000.5, [])


async def test_rebuild_lock_is_exclusive_and_released_only_by_its_holder(
    timelines: TimelineStore,
) -> None:
    token = await timelines.lock_rebuild("gina", 10_000)
    assert token is not None
    assert await timelines.lock_rebuild("gina", 10_000) is None
    await timelines.unlock_rebuild("gina", "not-the-token")
    assert await timelines.rebuild_in_progress("gina")
    await timelines.unlock_rebuild("gina", token)
    assert not await timelines.rebuild_in_progress("gina")


async def test_add_to_many_writes_only_built_timelines(timelines: TimelineStore) -> None:
    for user in ("u1", "u2", "u3"):
        await timelines.build(user, [1], time.time())
    assert await timelines.add_to_many(["u1", "ghost", "u2", "u3"], [3, 2], history=False) == 3
    for user in ("u1", "u2", "u3"):
        assert await ids(timelines, user) == [3, 2, 1]
    assert not (await timelines.read("ghost", None, 10)).built


async def test_read_brings_the_cached_celebrity_list_in_the_same_round_trip(
    stores: Stores, keys: Keys, timelines: TimelineStore
) -> None:
    await timelines.build("gina", [4], time.time())
    assert (await timelines.read("gina", None, 10)).cached_celebrity_friends is None
    await stores.redis.set(keys.celebrity_friends("gina"), '["star"]')
    read = await timelines.read("gina", None, 10)
    assert (read.cached_celebrity_friends, read.post_ids, read.built) == ('["star"]', [4], True)


async def test_every_write_trims_to_the_cap_and_keeps_the_built_mark(
    stores: Stores, settings: Settings
) -> None:
    timelines = store(stores, settings, 3, 250)
    await timelines.build("hal", [1, 2, 3, 4, 5], time.time())
    assert await ids(timelines, "hal") == [5, 4, 3]
    await timelines.add("hal", [6, 7])
    assert await ids(timelines, "hal") == [7, 6, 5]
    await timelines.fan_out(8, ["hal"], 0)
    assert await ids(timelines, "hal") == [8, 7, 6]
    await timelines.build("hal", [9], time.time())  # merged, then trimmed
    assert await ids(timelines, "hal") == [9, 8, 7]
    assert (await timelines.read("hal", None, 1)).built


async def test_one_script_call_serves_many_readers_per_node(
    stores: Stores, settings: Settings
) -> None:
    """On a cluster the readers of a chunk are grouped by node: a handful of calls
    for 300 readers, not one each (on one server, one per 250 readers)."""
    timelines = store(stores, settings, 800, 250)
    readers = [f"reader{n}" for n in range(300)]
    now = time.time()
    for reader in readers:
        await timelines.build(reader, [], now)

    async def calls() -> int:
        nodes = stores.redis.get_primaries() if settings.redis_cluster else [None]  # type: ignore[attr-defined]
        total = 0
        for node in nodes:
            kwargs = {"target_nodes": node} if node is not None else {}
            stats = await stores.redis.execute_command(  # type: ignore[no-untyped-call]
                "INFO", "commandstats", **kwargs
            )
            total += int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
        return total

    before = await calls()
    assert await timelines.fan_out(7, readers, 0) == 300
    made = await calls() - before
    assert made <= (3 * 2 if settings.redis_cluster else 2)  # 3 primaries, 1 or 2 chunks each
    for reader in readers:
        assert await ids(timelines, reader) == [7]
    # A batch: three posts for everyone, a fourth for a few, in as few calls.
    before = await calls()
    batch = [Delivery(reader, 0, [8, 9, 10]) for reader in readers[10:]]
    batch += [Delivery(reader, 0, [8, 9, 10, 11]) for reader in readers[:10]]
    assert await timelines.fan_out_many(batch) == 290 * 3 + 10 * 4
    made = await calls() - before
    assert made <= (3 * 2 if settings.redis_cluster else 2)
    assert await ids(timelines, readers[0]) == [11, 10, 9, 8, 7]
    assert await ids(timelines, readers[-1]) == [10, 9, 8, 7]


async def test_a_timeline_knows_whether_it_holds_everything(
    stores: Stores, settings: Settings
) -> None:
    """Whole down to the horizon until something could leave a gap: a trim, a
    backfill of older posts, an unmute."""
    timelines = store(stores, settings, 3, 250)

    async def whole() -> bool:
        return (await timelines.read("ivy", None, 10)).complete

    await timelines.build("ivy", [1, 2], time.time(), complete=True)
    assert await whole()
    await timelines.add("ivy", [3])  # newer posts leave nothing out
    await timelines.fan_out(4, ["ivy"], 0)  # over the cap: post 1 is trimmed
    assert await ids(timelines, "ivy") == [4, 3, 2]
    assert not await whole()
    await timelines.build("ivy", [], time.time(), complete=True)
    assert await whole()
    await timelines.add_to_many(["ivy"], [1], history=True)
    assert not await whole()
    await timelines.build("ivy", [], time.time(), complete=True)
    await timelines.mark_incomplete("ivy")
    assert not await whole()
    assert (await timelines.read("ivy", None, 10)).built  # still built throughout
