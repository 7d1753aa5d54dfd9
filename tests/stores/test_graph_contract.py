"""The FriendGraph contract, run against every graph backend we can start here.

Each backend subclasses GraphContract and provides a `graph` fixture.
"""

import os
from collections.abc import AsyncIterator

import pytest

from tidings.app.settings import Settings
from tidings.app.stores import connect_graph
from tidings.stores.falkordb_graph import FalkorDBGraph
from tidings.stores.graph import FriendGraph, UserSummary
from tidings.stores.neo4j_graph import Neo4jGraph, label_for


class GraphContract:
    backend: type[FriendGraph]

    def graph_url(self, settings: Settings) -> str:
        raise NotImplementedError

    @pytest.fixture
    async def graph(self, settings: Settings) -> AsyncIterator[FriendGraph]:
        graph = connect_graph(self.graph_url(settings), settings.namespace)
        assert isinstance(graph, self.backend)
        await graph.ensure_schema()
        try:
            yield graph
        finally:
            await graph.drop()
            await graph.close()

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

    async def test_befriend_many_in_bulk(self, graph: FriendGraph) -> None:
        await graph.add_friendship("hub", "f1")
        await graph.befriend_many("hub", ["f1", "f2", "f3", "hub"])
        await graph.befriend_many("f2", ["hub"])
        assert await graph.friends_page("hub", None, 10) == ["f1", "f2", "f3"]
        assert await graph.user_summaries(["hub", "f2"]) == [
            UserSummary("hub", 3),
            UserSummary("f2", 1),
        ]

    async def test_friend_counts_stop_at_the_bound(self, graph: FriendGraph) -> None:
        await graph.befriend_many("hub", ["a", "b", "c"])
        assert await graph.count_friends_up_to("hub", 2) == 2
        assert await graph.count_friends_up_to("hub", 3) == 3
        assert await graph.count_friends_up_to("hub", 10) == 3
        assert await graph.count_friends_up_to("a", 5) == 1
        assert await graph.count_friends_up_to("ghost", 1) == 0

    async def test_friends_with_at_least_counts_each_friends_friends(
        self, graph: FriendGraph
    ) -> None:
        await graph.befriend_many("viewer", ["star", "mid", "loner"])
        await graph.befriend_many("star", [f"fan{i}" for i in range(10)])  # 11 friends
        await graph.befriend_many("mid", ["x", "y"])  # 3 friends
        assert await graph.friends_with_at_least("viewer", 3) == ["mid", "star"]
        assert await graph.friends_with_at_least("viewer", 4) == ["star"]
        assert await graph.friends_with_at_least("viewer", 11) == ["star"]
        assert await graph.friends_with_at_least("viewer", 12) == []
        assert await graph.friends_with_at_least("ghost", 1) == []

    async def test_bulk_loading_users_and_pairs(self, graph: FriendGraph) -> None:
        await graph.ensure_users(["a", "b", "c", "d"])
        await graph.create_friendships([("a", "b"), ("c", "a"), ("d", "d")])
        await graph.ensure_users(["a"])
        assert await graph.user_summaries(["a", "b", "c", "d"]) == [
            UserSummary("a", 2),
            UserSummary("b", 1),
            UserSummary("c", 1),
            UserSummary("d", 0),
        ]

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
    backend = FalkorDBGraph

    def graph_url(self, settings: Settings) -> str:
        return settings.graph_url


NEO4J_URI = os.environ.get("TIDINGS_TEST_NEO4J_URI")


@pytest.mark.skipif(
    not NEO4J_URI,
    reason="needs a Neo4j server: set TIDINGS_TEST_NEO4J_URI (e.g. neo4j://user:pass@host:7687); "
    "none can be installed on this machine",
)
class TestNeo4jGraph(GraphContract):
    backend = Neo4jGraph

    def graph_url(self, settings: Settings) -> str:
        assert NEO4J_URI is not None
        return NEO4J_URI


async def test_the_url_scheme_alone_selects_the_backend(settings: Settings) -> None:
    falkordb = connect_graph(settings.graph_url, settings.namespace)
    # The Neo4j driver connects on first use, so no server is needed to build one.
    neo4j = connect_graph("neo4j://127.0.0.1:1", "ns")
    bolt = connect_graph("bolt+s://db.example:7687/social", "ns")
    try:
        assert isinstance(falkordb, FalkorDBGraph)
        assert isinstance(neo4j, Neo4jGraph)
        assert isinstance(bolt, Neo4jGraph)
    finally:
        for graph in (falkordb, neo4j, bolt):
            await graph.close()
    with pytest.raises(ValueError, match="Unsupported graph URL"):
        connect_graph("postgres://127.0.0.1/x", "ns")


def test_neo4j_namespaces_get_their_own_label() -> None:
    assert label_for("tidings") == "User"
    assert label_for("t-123") == "User_t_123"
