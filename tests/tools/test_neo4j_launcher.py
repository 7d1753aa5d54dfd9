"""The Neo4j launcher: `tidings dev --graph neo4j` restarts it on the same data."""

from pathlib import Path

import pytest

from tests.graphs import require_neo4j
from tidings.app.stores import connect_graph
from tidings.stores.breaker import StoreUnavailable
from tidings_tools import devstack, neo4j


@pytest.mark.neo4j
async def test_it_restarts_on_its_own_data_with_its_password(tmp_path: Path) -> None:
    require_neo4j()
    secret = neo4j.password(tmp_path)
    assert neo4j.password(tmp_path) == secret  # generated once, then kept
    assert (tmp_path / neo4j.PASSWORD_FILE).stat().st_mode & 0o077 == 0
    port = devstack.free_port()
    home, log = tmp_path / "home", tmp_path / "neo4j.log"

    server = neo4j.start_neo4j(home, port, log, secret, heap="512m")
    graph = connect_graph(neo4j.bolt_url(port, secret), "launcher")
    try:
        await graph.ensure_schema()
        await graph.add_friendship("kept", "across")
    finally:
        await graph.close()
        server.stop()

    # A second start sets the same password again: that must not stop it.
    server = neo4j.start_neo4j(home, port, log, secret, heap="512m")
    graph = connect_graph(neo4j.bolt_url(port, secret), "launcher")
    stranger = connect_graph(neo4j.bolt_url(port, "not-the-password"), "launcher")
    try:
        assert await graph.friends_page("kept", None, 10) == ["across"]
        with pytest.raises(StoreUnavailable):
            await stranger.friends_page("kept", None, 10)
    finally:
        await graph.close()
        await stranger.close()
        server.stop()
