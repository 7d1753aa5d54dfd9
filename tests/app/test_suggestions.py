"""People you may know, through the API, on both graph stores."""

from tests.app.conftest import Api
from tests.app.scenario import befriend
from tests.graphs import ON_BOTH_GRAPHS
from tidings.feed.paging import MAX_PAGE

pytestmark = ON_BOTH_GRAPHS

SUGGESTED = """query($first: Int) { viewer { suggestedFriends(first: $first) {
  user { id friendship } mutualFriendCount } } }"""


async def test_friends_of_friends_ranked_without_friends_requests_or_blocks(api: Api) -> None:
    await befriend(api, "vera", "ann", "bea")
    await befriend(api, "ann", "xavi", "yann", "zoe")
    await befriend(api, "bea", "xavi", "yann")
    await api.data("vera", 'mutation { addFriend(userId: "zoe") { friendship } }')
    await api.data("bea", 'mutation { blockUser(userId: "yann") { friendship } }')

    found = (await api.data("vera", SUGGESTED))["viewer"]["suggestedFriends"]
    # zoe has a request from vera pending: left out. ann and bea are friends.
    assert found == [
        {"user": {"id": "xavi", "friendship": "NONE"}, "mutualFriendCount": 2},
        {"user": {"id": "yann", "friendship": "NONE"}, "mutualFriendCount": 1},
    ]
    one = await api.data("vera", SUGGESTED, {"first": 1})
    assert one["viewer"]["suggestedFriends"] == found[:1]


async def test_they_are_the_viewers_own_and_first_is_bounded(api: Api) -> None:
    await befriend(api, "vera", "ann")
    others = await api.data("ann", '{ user(id: "vera") { suggestedFriends { user { id } } } }')
    assert others == {"user": {"suggestedFriends": []}}
    # The same bound as every page, and one error message for it.
    too_many = {"first": MAX_PAGE + 1}
    assert await api.error_code("vera", SUGGESTED, too_many) == "BAD_USER_INPUT"
    assert await api.error_code("vera", SUGGESTED, {"first": 0}) == "BAD_USER_INPUT"
