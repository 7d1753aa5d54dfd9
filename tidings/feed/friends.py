"""Making and ending friendships."""

from tidings.feed.errors import BadUserInput
from tidings.feed.users import parse_user_id
from tidings.stores.graph import FriendGraph


def _other(viewer_id: str, user_id: str) -> str:
    friend_id = parse_user_id(user_id)
    if friend_id == viewer_id:
        raise BadUserInput("You cannot befriend yourself.", field="userId")
    return friend_id


async def befriend(graph: FriendGraph, viewer_id: str, user_id: str) -> str:
    friend_id = _other(viewer_id, user_id)
    await graph.add_friendship(viewer_id, friend_id)
    return friend_id


async def unfriend(graph: FriendGraph, viewer_id: str, user_id: str) -> str:
    friend_id = _other(viewer_id, user_id)
    await graph.remove_friendship(viewer_id, friend_id)
    return friend_id
