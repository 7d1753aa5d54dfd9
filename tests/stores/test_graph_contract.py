"""The FriendGraph contract, run against every graph backend we can start here.

Each backend subclasses GraphContract and provides a `graph` fixture.
"""

from collections.abc import AsyncIterator

import pytest

from tidings.app.settings import Settings
from tidings.stores.falkordb_graph import FalkorDBGraph
from tidings.stores.graph import FriendGraph, UserSummary, connect_graph


class GraphContract:
    async def test_friendship_is_mutual(self, graph: FriendGraph) -> None:
        assert await graph.add_friendship("alice", "bob") is True
        assert await graph.friends_page("alice", None, 10) == ["bob"]
        assert await graph.friends_page("bob", None, 10) == ["alice"]

    async def test_adding_twice_or_from_the_other_side_is_one_friendship(
        self, graph: FriendGraph
    ) -> None:
        await graph.add_friendship("alice", "bob")
        assert await graph.add_friendship("alice", "bob") is False
        assert await graph.add_friendship("bob", "alice") is False
        assert await graph.user_summaries(["alice", "bob"]) == [
            UserSummary("alice", 1),
            UserSummary("bob", 1),
        ]

    async def test_removing_ends_it_both_ways_and_is_idempotent(self, graph: FriendGraph) -> None:
        await graph.add_friendship("alice", "bob")
        await graph.add_friendship("alice", "carol")
        assert await graph.remove_friendship("bob", "alice") is True
        assert await graph.remove_friendship("alice", "bob") is False
        assert await graph.friends_page("alice", None, 10) == ["carol"]
        assert await graph.friends_page("bob", None, 10) == []

    async def test_removing_between_strangers_changes_nothing(self, graph: FriendGraph) -> None:
        assert await graph.remove_friendship("nobody", "noone") is False
        assert await graph.user_summaries(["nobody"]) == [None]

    async def test_friends_page_in_id_order_with_keyset(self, graph: FriendGraph) -> None:
        names = [f"f{i:03d}" for i in range(25)]
        for name in reversed(names):
            await graph.add_friendship("hub", name)
        seen: list[str] = []
        after = None
        while page := await graph.friends_page("hub", after, 10):
            seen += page
            after = page[-1]
        assert seen == names

    async def test_summaries_keep_order_and_mark_unknown_users(self, graph: FriendGraph) -> None:
        await graph.add_friendship("a", "b")
        await graph.add_friendship("a", "c")
        await graph.ensure_user("loner")
        assert await graph.user_summaries(["ghost", "c", "a", "loner", "a"]) == [
            None,
            UserSummary("c", 1),
            UserSummary("a", 2),
            UserSummary("loner", 0),
            UserSummary("a", 2),
        ]

    async def test_ensure_user_and_schema_are_idempotent(self, graph: FriendGraph) -> None:
        await graph.ensure_schema()
        await graph.ensure_user("x")
        await graph.ensure_user("x")
        await graph.add_friendship("x", "y")
        assert await graph.user_summaries(["x"]) == [UserSummary("x", 1)]


class TestFalkorDBGraph(GraphContract):
    @pytest.fixture
    async def graph(self, settings: Settings) -> AsyncIterator[FriendGraph]:
        graph = connect_graph(settings.graph_url, settings.namespace)
        assert isinstance(graph, FalkorDBGraph)
        await graph.ensure_schema()
        try:
            yield graph
        finally:
            await graph.drop()
            await graph.close()
