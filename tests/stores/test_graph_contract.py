"""The FriendGraph contract, run against every graph backend we can start here.

Each backend subclasses GraphContract and provides a `graph` fixture.
"""

from collections.abc import AsyncIterator

import pytest

from tests.graphs import ON_NEO4J
from tidings.app.settings import Settings
from tidings.app.stores import connect_graph
from tidings.stores.falkordb_graph import FalkorDBGraph
from tidings.stores.graph import (
    Audience,
    CelebrityChange,
    FriendGraph,
    Relation,
    RelationList,
    RequestOutcome,
    Suggestion,
    UserSummary,
)
from tidings.stores.neo4j_graph import Neo4jGraph, label_for

CAP = 50


async def ask(graph: FriendGraph, user: str, other: str, *, at: int = 1) -> RequestOutcome:
    return await graph.request_friendship(user, other, max_pending=CAP, now_ms=at)


class GraphContract:
    """Subclassed per backend, which also picks the test's settings (tests/graphs.py)."""

    backend: type[FriendGraph]

    @pytest.fixture
    async def graph(self, settings: Settings) -> AsyncIterator[FriendGraph]:
        graph = connect_graph(settings.graph_url, settings.namespace)
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

    async def test_celebrity_marks_with_hysteresis(self, graph: FriendGraph) -> None:
        async def reconsider(user: str) -> CelebrityChange:
            return await graph.update_celebrity(user, promote_at=4, demote_below=3)

        await graph.befriend_many("star", ["a", "b", "c"])
        assert await reconsider("star") is CelebrityChange.UNCHANGED
        assert not await graph.is_celebrity("star")
        await graph.befriend_many("star", ["d"])
        assert await reconsider("star") is CelebrityChange.PROMOTED
        assert await graph.is_celebrity("star")
        await graph.remove_friendship("star", "d")  # 3: not below 3, still a celebrity
        assert await reconsider("star") is CelebrityChange.UNCHANGED
        await graph.befriend_many("star", ["d"])
        assert await reconsider("star") is CelebrityChange.UNCHANGED
        await graph.remove_friendship("star", "d")
        await graph.remove_friendship("star", "c")  # 2: below 3
        assert await reconsider("star") is CelebrityChange.DEMOTED
        assert not await graph.is_celebrity("star")
        assert not await graph.is_celebrity("ghost")
        assert await reconsider("ghost") is CelebrityChange.UNCHANGED

    async def test_celebrity_friends_are_the_marked_unmuted_ones(self, graph: FriendGraph) -> None:
        await graph.befriend_many("viewer", ["star", "mid", "loner"])
        await graph.befriend_many("other", ["star2"])
        await graph.mark_celebrities(["star", "star2"])
        assert await graph.celebrity_friends("viewer") == ["star"]
        await graph.mute("viewer", "star", now_ms=1)
        assert await graph.celebrity_friends("viewer") == []
        assert await graph.celebrity_friends("ghost") == []

    async def test_audiences_of_many_authors_in_one_query(self, graph: FriendGraph) -> None:
        await graph.befriend_many("ann", ["b", "c", "d"])
        await graph.befriend_many("big", ["b", "c", "d", "e"])
        await graph.befriend_many("star", ["b", "c"])
        await graph.ensure_users(["alone"])
        await graph.mark_celebrities(["star"])
        await graph.mute("c", "ann", now_ms=1)  # c hears nothing more from ann
        await graph.mute("ann", "b", now_ms=1)  # ann's own mutes change nothing here
        found = await graph.audiences(["ann", "big", "star", "alone", "ghost", "ann"], 3)
        assert set(found) == {"ann", "big", "star", "alone"}  # ghost is not in the graph
        assert found["ann"] == Audience(celebrity=False, readers=found["ann"].readers)
        assert sorted(found["ann"].readers or []) == ["b", "d"]
        assert found["big"] == Audience(celebrity=False, readers=None)  # 4 > 3: walk it
        assert found["star"] == Audience(celebrity=True, readers=None)
        assert found["alone"] == Audience(celebrity=False, readers=[])
        assert await graph.audiences([], 3) == {}

    async def test_friends_only_once_both_sides_asked(self, graph: FriendGraph) -> None:
        assert await ask(graph, "alice", "bob") is RequestOutcome.SENT
        assert await graph.friends_page("alice", None, 10) == []
        assert await ask(graph, "alice", "bob") is RequestOutcome.PENDING
        assert await graph.relations("alice", ["bob"]) == [Relation(sent=True)]
        assert await graph.relations("bob", ["alice"]) == [Relation(received=True)]
        assert await ask(graph, "bob", "alice") is RequestOutcome.ACCEPTED
        assert await graph.friends_page("alice", None, 10) == ["bob"]
        assert await graph.relations("alice", ["bob"]) == [Relation(friends=True)]
        assert await ask(graph, "alice", "bob") is RequestOutcome.FRIENDS
        assert await graph.relations_page("bob", RelationList.INCOMING_REQUESTS, None, 10) == []

    async def test_remove_withdraws_declines_and_unfriends(self, graph: FriendGraph) -> None:
        await ask(graph, "alice", "bob")
        assert await graph.remove_friendship("alice", "bob") is False  # withdrawn
        assert await graph.relations("bob", ["alice"]) == [Relation()]
        await ask(graph, "alice", "bob")
        assert await graph.remove_friendship("bob", "alice") is False  # declined
        assert await graph.relations("alice", ["bob"]) == [Relation()]
        await ask(graph, "alice", "bob")
        await ask(graph, "bob", "alice")
        assert await graph.remove_friendship("bob", "alice") is True
        assert await graph.relations("alice", ["bob"]) == [Relation()]

    async def test_pending_requests_are_capped(self, graph: FriendGraph) -> None:
        for i in range(3):
            outcome = await graph.request_friendship("eager", f"u{i}", max_pending=3, now_ms=1)
            assert outcome is RequestOutcome.SENT
        refused = await graph.request_friendship("eager", "u3", max_pending=3, now_ms=1)
        assert refused is RequestOutcome.TOO_MANY
        assert await graph.relations("eager", ["u3"]) == [Relation()]
        # Accepting someone else's request is not a new pending one.
        await ask(graph, "fan", "eager")
        accepted = await graph.request_friendship("eager", "fan", max_pending=3, now_ms=1)
        assert accepted is RequestOutcome.ACCEPTED

    async def test_block_ends_everything_and_refuses_requests_both_ways(
        self, graph: FriendGraph
    ) -> None:
        await ask(graph, "alice", "bob")
        await ask(graph, "bob", "alice")
        await ask(graph, "alice", "carol")
        await graph.mute("alice", "bob", now_ms=1)
        assert await graph.block("alice", "bob", now_ms=2) is True
        assert await graph.block("alice", "carol", now_ms=3) is False
        assert await graph.friends_page("alice", None, 10) == []
        assert await graph.relations("alice", ["bob", "carol"]) == [
            Relation(blocked=True),
            Relation(blocked=True),
        ]
        assert await graph.relations("bob", ["alice"]) == [Relation()]  # no block oracle
        assert await ask(graph, "bob", "alice") is RequestOutcome.BLOCKED
        assert await ask(graph, "alice", "bob") is RequestOutcome.BLOCKED
        assert await graph.relations("bob", ["alice"]) == [Relation()]  # nothing stored
        await graph.unblock("alice", "bob")
        assert await graph.relations("alice", ["bob"]) == [Relation()]  # not friends again
        assert await ask(graph, "bob", "alice") is RequestOutcome.SENT

    async def test_blocks_are_found_either_way(self, graph: FriendGraph) -> None:
        await graph.ensure_users(["ann", "bob", "cy", "dee"])
        await graph.block("ann", "bob", now_ms=1)
        await graph.block("cy", "ann", now_ms=2)
        assert await graph.blocked_either_way("ann", ["bob", "cy", "dee", "nobody"]) == {
            "bob",
            "cy",
        }
        assert await graph.blocked_either_way("bob", ["ann", "cy"]) == {"ann"}
        assert await graph.blocked_either_way("dee", ["ann"]) == set()
        assert await graph.blocked_either_way("ann", []) == set()
        await graph.unblock("ann", "bob")
        assert await graph.blocked_either_way("ann", ["bob", "cy"]) == {"cy"}

    async def test_mutes_keep_the_friendship_and_leave_the_readers(
        self, graph: FriendGraph
    ) -> None:
        await graph.befriend_many("author", ["r1", "r2", "r3"])
        await graph.mute("r2", "author", now_ms=1)
        await graph.mute("r2", "author", now_ms=2)
        assert await graph.relations("r2", ["author"]) == [Relation(friends=True, muted=True)]
        await graph.mute("r3", "author", now_ms=3)
        assert sorted(await graph.muters("author", 10)) == ["r2", "r3"]
        assert len(await graph.muters("author", 1)) == 1
        assert await graph.friends_page("author", None, 10) == ["r1", "r2", "r3"]
        await graph.unmute("r2", "author")
        assert await graph.muters("author", 10) == ["r3"]

    async def test_relation_lists_newest_first_with_keyset(self, graph: FriendGraph) -> None:
        for at, asker in enumerate(["a", "b", "c", "d"]):
            await ask(graph, asker, "popular", at=100 + at % 2)  # ties on time
        incoming = RelationList.INCOMING_REQUESTS
        first = await graph.relations_page("popular", incoming, None, 3)
        assert first == [(101, "b"), (101, "d"), (100, "a")]
        assert await graph.relations_page("popular", incoming, first[-1], 3) == [(100, "c")]
        outgoing = await graph.relations_page("a", RelationList.OUTGOING_REQUESTS, None, 3)
        assert outgoing == [(100, "popular")]
        await graph.block("popular", "z", now_ms=5)
        await graph.mute("popular", "y", now_ms=6)
        assert await graph.relations_page("popular", RelationList.BLOCKED, None, 3) == [(5, "z")]
        assert await graph.relations_page("popular", RelationList.MUTED, None, 3) == [(6, "y")]

    async def test_bulk_loading_users_and_friendships(self, graph: FriendGraph) -> None:
        await graph.ensure_users(["a", "b", "c", "d"])
        await graph.create_friendships([("a", ["b"]), ("c", ["a"]), ("d", ["d"]), ("b", [])])
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

    async def test_suggestions_rank_friends_of_friends_by_mutual_friends(
        self, graph: FriendGraph
    ) -> None:
        for one, other in [
            ("v", "a"), ("v", "b"), ("v", "c"), ("a", "b"),
            ("a", "x"), ("b", "x"), ("c", "x"),
            ("a", "y"), ("b", "y"),
            ("b", "z"), ("c", "q"), ("a", "r"),
        ]:  # fmt: skip
            await graph.add_friendship(one, other)
        assert await ask(graph, "v", "z") == RequestOutcome.SENT  # pending: left out
        await graph.block("r", "v", now_ms=1)  # blocked either way: left out

        async def walk(limit: int = 10) -> list[Suggestion]:
            return await graph.suggestions("v", limit, friends_walked=100, per_friend=100)

        # a and b are v's friends, though each is the other's friend: left out.
        assert await walk() == [Suggestion("x", 3), Suggestion("y", 2), Suggestion("q", 1)]
        assert await walk(limit=2) == [Suggestion("x", 3), Suggestion("y", 2)]
        assert await graph.suggestions("nobody", 10, friends_walked=5, per_friend=5) == []

    async def test_the_suggestion_walk_is_capped(self, graph: FriendGraph) -> None:
        await graph.befriend_many("v", ["f1", "f2", "f3"])
        for friend in ("f1", "f2", "f3"):
            await graph.befriend_many(friend, [f"{friend}-{n}" for n in range(20)] + ["shared"])
        everything = await graph.suggestions("v", 100, friends_walked=100, per_friend=100)
        assert everything[0] == Suggestion("shared", 3)
        assert len(everything) == 61
        # Two friends walked, five of each one's friends read: ten ties at most.
        capped = await graph.suggestions("v", 100, friends_walked=2, per_friend=5)
        assert sum(s.mutual_friends for s in capped) <= 10
        assert capped


class TestFalkorDBGraph(GraphContract):
    backend = FalkorDBGraph


@ON_NEO4J
class TestNeo4jGraph(GraphContract):
    backend = Neo4jGraph


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
