"""The ranked feed's reading sessions, pull to refresh, the "new posts" count and
the marker, against the real stores."""

import asyncio
from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import DELETE, befriend, post, wait_for_post
from tests.conftest import eventually
from tests.ranking_service import RankingService

RANKED = """query($first: Int, $after: String) {
  timeline(first: $first, after: $after, order: RANKED) {
    edges { cursor node { id } } pageInfo { hasNextPage endCursor } rankedSessionEnded } }"""
LATEST = """query($first: Int, $after: String, $last: Int, $before: String) {
  timeline(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
COUNT = "query($since: String!) { newPostCount(since: $since) }"
LIKE = "mutation($id: ID!) { likePost(postId: $id) { id } }"
MARK = """mutation($id: ID!) { markTimelineRead(postId: $id) { cursor updatedAt post { id } } }"""
MARKER = "{ viewer { timelineMarker { cursor post { id } } } }"


@pytest.fixture
def overrides(request: pytest.FixtureRequest, ranking_service: RankingService) -> dict[str, Any]:
    if "service" in request.node.name:
        return {"ranking_url": ranking_service.url, "ranking_timeout_ms": 300}
    # Sessions smaller than the timeline, so their continuation has posts to show.
    if "expired" in request.node.name:
        return {"ranked_session_seconds": 1, "ranked_candidates": 4}
    if "evicts" in request.node.name:
        return {"ranked_sessions_per_user": 2, "ranked_candidates": 2}
    if "used_up" in request.node.name:
        return {"ranked_candidates": 3}
    return {"post_rate": 1_000}


async def ranked_page(api: Api, user: str, first: int, after: str | None) -> dict[str, Any]:
    data = await api.data(user, RANKED, {"first": first, "after": after})
    connection: dict[str, Any] = data["timeline"]
    return connection


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def posts_by(api: Api, author: str, count: int) -> list[str]:
    return [(await post(api, author, f"{author} {i}"))["id"] for i in range(count)]


async def bobs_posts_in_anns_timeline(api: Api, count: int) -> list[str]:
    """ann and bob are friends, and bob's `count` posts have reached ann's timeline."""
    await befriend(api, "ann", "bob")
    written = await posts_by(api, "bob", count)
    await wait_for_post(api, "ann", written[-1])
    return written


async def test_five_ranked_pages_never_repeat_or_skip_while_scores_change(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy", "dee")
    written = []
    for author in ("bob", "cy", "dee"):
        written += await posts_by(api, author, 9)
    await wait_for_post(api, "ann", written[-1])
    # ann likes cy's posts: cy's move up in her next session, not in this one.
    seen: list[str] = []
    connection = await ranked_page(api, "ann", 5, None)
    assert connection["rankedSessionEnded"] is False
    seen += ids(connection)
    for n in range(4):
        # Meanwhile likes change scores and new posts arrive.
        await api.data("ann", LIKE, {"id": written[9 + n]})
        await post(api, "bob", f"new while reading {n}")
        connection = await ranked_page(api, "ann", 5, connection["pageInfo"]["endCursor"])
        seen += ids(connection)
    assert len(seen) == len(set(seen)) == 25  # no repeat
    rest = await ranked_page(api, "ann", 100, connection["pageInfo"]["endCursor"])
    # The session's two remaining candidates end it: every post written before it
    # started, each once, and none of those that arrived later.
    assert sorted(seen + ids(rest)) == sorted(written)
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_the_built_in_score_ranks_a_close_friend_first(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy")
    close = await posts_by(api, "cy", 2)
    for post_id in close:
        await api.data("ann", LIKE, {"id": post_id})
    newer = await posts_by(api, "bob", 2)  # newer, from someone ann never liked
    await wait_for_post(api, "ann", newer[-1])
    connection = await ranked_page(api, "ann", 10, None)
    assert ids(connection)[:2] == list(reversed(close))
    latest = await api.data("ann", LATEST, {"first": 10})
    assert ids(latest["timeline"])[:2] == list(reversed(newer))  # LATEST stays newest first


async def test_an_expired_session_continues_chronologically_without_repeats(api: Api) -> None:
    written = await bobs_posts_in_anns_timeline(api, 8)
    first = await ranked_page(api, "ann", 3, None)
    session_keys = [
        key async for key in api.stores.redis.scan_iter(match=f"{api.keys.namespace}:rank:*")
    ]
    assert session_keys

    async def expired() -> bool:
        return not await api.stores.redis.exists(*session_keys)

    await eventually(expired)
    after = await ranked_page(api, "ann", 10, first["pageInfo"]["endCursor"])
    assert after["rankedSessionEnded"] is True
    # The session held the newest four and served three of them. What follows is
    # below its oldest candidate, newest first: nothing the session served again.
    assert set(ids(first)) < set(written[4:])
    assert ids(after) == list(reversed(written[:4]))
    assert after["pageInfo"]["hasNextPage"] is False


async def test_a_used_up_session_continues_below_its_oldest_candidate(api: Api) -> None:
    written = await bobs_posts_in_anns_timeline(api, 6)
    # Sessions of three candidates: the newest three.
    first = await ranked_page(api, "ann", 2, None)
    last = await ranked_page(api, "ann", 2, first["pageInfo"]["endCursor"])
    assert len(ids(last)) == 1
    assert last["pageInfo"]["hasNextPage"] is True  # older posts lie below the session
    assert sorted(ids(first) + ids(last)) == sorted(written[3:])
    below = await ranked_page(api, "ann", 10, last["pageInfo"]["endCursor"])
    assert below["rankedSessionEnded"] is True
    assert ids(below) == list(reversed(written[:3]))  # newest first, nothing again
    assert below["pageInfo"]["hasNextPage"] is False


async def test_a_new_session_evicts_the_users_oldest(api: Api) -> None:
    written = await bobs_posts_in_anns_timeline(api, 4)
    # Sessions of the newest two; the oldest session has served one of them.
    oldest = await ranked_page(api, "ann", 1, None)
    for _ in range(2):
        await ranked_page(api, "ann", 1, None)
    evicted = await ranked_page(api, "ann", 2, oldest["pageInfo"]["endCursor"])
    # Gone: not its second candidate, but the posts below it, newest first.
    assert evicted["rankedSessionEnded"] is True
    assert ids(evicted) == list(reversed(written[:2]))


async def test_the_ranking_service_is_asked_once_per_session(
    api: Api, ranking_service: RankingService
) -> None:
    written = await bobs_posts_in_anns_timeline(api, 6)
    connection = await ranked_page(api, "ann", 2, None)
    assert ids(connection) == written[:2]  # the service reverses: oldest first
    for _ in range(2):
        connection = await ranked_page(api, "ann", 2, connection["pageInfo"]["endCursor"])
    assert len(ranking_service.requests) == 1
    assert len(ranking_service.requests[0]["candidates"]) == 6  # type: ignore[arg-type]
    # LATEST never asks it.
    await api.data("ann", LATEST, {"first": 5})
    assert len(ranking_service.requests) == 1

    ranking_service.mode = "slow"  # a hung service: the built-in score, in time
    started = asyncio.get_running_loop().time()
    connection = await ranked_page(api, "ann", 6, None)
    assert asyncio.get_running_loop().time() - started < 1.5
    assert sorted(ids(connection)) == sorted(written)
    assert len(ranking_service.requests) == 2


async def test_pull_to_refresh_and_the_new_post_count_with_posts_arriving(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy")
    old = await posts_by(api, "bob", 3)
    await wait_for_post(api, "ann", old[-1])
    top = (await api.data("ann", LATEST, {"first": 1}))["timeline"]["edges"][0]["cursor"]
    assert (await api.data("ann", COUNT, {"since": top}))["newPostCount"] == 0
    # Posts arrive from two authors at once.
    arrived = await asyncio.gather(
        *(post(api, a, f"{a} {i}") for i in range(4) for a in ("bob", "cy"))
    )
    author_of = {p["id"]: p["author"]["id"] for p in arrived}
    newer = sorted(author_of, key=int)
    await wait_for_post(api, "ann", newer[-1])
    assert (await api.data("ann", COUNT, {"since": top}))["newPostCount"] == 8
    # The three nearest above the cursor, newest first; more exist above them.
    page = (await api.data("ann", LATEST, {"last": 3, "before": top}))["timeline"]
    assert ids(page) == list(reversed(newer[:3]))
    assert page["pageInfo"]["hasPreviousPage"] is True
    nearest_new = page["edges"][0]["cursor"]
    rest = (await api.data("ann", LATEST, {"last": 10, "before": nearest_new}))["timeline"]
    assert ids(rest) == list(reversed(newer[3:]))
    assert rest["pageInfo"]["hasPreviousPage"] is False
    # A deleted one is left out of the page.
    await api.data(author_of[newer[-1]], DELETE, {"id": newer[-1]})
    again = (await api.data("ann", LATEST, {"last": 10, "before": nearest_new}))["timeline"]
    assert ids(again) == list(reversed(newer[3:-1]))
    # A ranked cursor counts above its session's newest candidate.
    session = await ranked_page(api, "ann", 2, None)
    since = session["pageInfo"]["endCursor"]
    assert (await api.data("ann", COUNT, {"since": since}))["newPostCount"] == 0
    later = await post(api, "bob", "after the session started")
    await wait_for_post(api, "ann", later["id"])
    assert (await api.data("ann", COUNT, {"since": since}))["newPostCount"] == 1


async def test_refreshing_while_posts_keep_arriving_never_repeats_or_skips(api: Api) -> None:
    await befriend(api, "ann", "bob", "cy")
    [first] = await posts_by(api, "bob", 1)
    await wait_for_post(api, "ann", first)
    cursor = (await api.data("ann", LATEST, {"first": 1}))["timeline"]["edges"][0]["cursor"]
    written: list[str] = []
    writing = True

    async def write() -> None:
        n = 0
        while writing:
            n += 1
            author = "bob" if n % 2 else "cy"
            written.append((await post(api, author, f"live {n}"))["id"])

    writer = asyncio.create_task(write())
    seen: list[str] = []
    # Refresh as a client does: the newest few above what it has, again and again.
    for _ in range(12):
        page = (await api.data("ann", LATEST, {"last": 2, "before": cursor}))["timeline"]
        seen += reversed(ids(page))  # oldest first, nearest the cursor first
        if page["edges"]:
            cursor = page["edges"][0]["cursor"]
    writing = False
    await writer
    await wait_for_post(api, "ann", written[-1])
    while True:  # what is left above, once the writes stopped
        page = (await api.data("ann", LATEST, {"last": 5, "before": cursor}))["timeline"]
        if not page["edges"]:
            break
        seen += reversed(ids(page))
        cursor = page["edges"][0]["cursor"]
    assert (await api.data("ann", COUNT, {"since": cursor}))["newPostCount"] == 0
    assert seen == sorted(written, key=int)  # each once, in order: nothing skipped


async def test_the_marker_only_moves_forward_from_two_devices(api: Api) -> None:
    await befriend(api, "ann", "bob")
    written = await posts_by(api, "bob", 3)
    assert (await api.data("ann", MARKER))["viewer"]["timelineMarker"] is None
    phone, laptop = written[2], written[0]
    # The laptop is behind: whichever arrives last, the marker stays at the phone's.
    await asyncio.gather(
        api.data("ann", MARK, {"id": phone}), api.data("ann", MARK, {"id": laptop})
    )
    marked = await api.data("ann", MARK, {"id": written[1]})
    assert marked["markTimelineRead"]["post"] == {"id": phone}
    marker = (await api.data("ann", MARKER))["viewer"]["timelineMarker"]
    assert marker["post"] == {"id": phone}
    # Its cursor is a LATEST cursor: `after` it continues down, `before` it gives what came since.
    below = (await api.data("ann", LATEST, {"first": 10, "after": marker["cursor"]}))["timeline"]
    assert ids(below) == [written[1], written[0]]
    newer = await post(api, "bob", "since")
    await wait_for_post(api, "ann", newer["id"])
    above = (await api.data("ann", LATEST, {"last": 10, "before": marker["cursor"]}))["timeline"]
    assert ids(above) == [newer["id"]]
    # Nobody else's, and only posts the viewer may read.
    assert (await api.data("bob", 'query { user(id: "ann") { timelineMarker { cursor } } }'))[
        "user"
    ]["timelineMarker"] is None
    stranger = (await post(api, "xena", "not ann's to read"))["id"]
    assert await api.error_code("ann", MARK, {"id": stranger}) == "NOT_FOUND"


async def test_arguments_are_checked(api: Api) -> None:
    await befriend(api, "ann", "bob")
    [latest] = await posts_by(api, "bob", 1)
    await wait_for_post(api, "ann", latest)
    cursor = (await api.data("ann", LATEST, {"first": 1}))["timeline"]["edges"][0]["cursor"]
    ranked = (await ranked_page(api, "ann", 1, None))["pageInfo"]["endCursor"]
    edges = "{ edges { cursor } }"
    bad = [
        f"{{ timeline(first: 1, last: 1) {edges} }}",
        f'{{ timeline(after: "{cursor}", before: "{cursor}", last: 1) {edges} }}',
        f'{{ timeline(last: 1, before: "{cursor}", order: RANKED) {edges} }}',
        f"{{ timeline(last: 1) {edges} }}",
        f'{{ timeline(first: 1, before: "{cursor}") {edges} }}',
        # A cursor of the other order is refused, both ways.
        f'{{ timeline(after: "{cursor}", order: RANKED) {edges} }}',
        f'{{ timeline(after: "{ranked}") {edges} }}',
        '{ newPostCount(since: "nonsense") }',
    ]
    for document in bad:
        assert await api.error_code("ann", document) == "BAD_USER_INPUT", document
