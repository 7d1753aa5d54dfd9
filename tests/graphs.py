"""Which graph store a test runs on: FalkorDB by default, Neo4j as well where the
graph's behaviour is what the test is about.

    pytestmark = ON_BOTH_GRAPHS   # the module runs once per store

Neo4j runs are marked `neo4j`; they skip, saying why, where Java or the launcher
is missing, and fail instead under TIDINGS_REQUIRE_NEO4J=1 (set by `.ci/run`).
"""

import pytest

from tests.needs import unavailable
from tidings_tools import neo4j

NEO4J = pytest.param("neo4j", marks=pytest.mark.neo4j, id="neo4j")
ON_BOTH_GRAPHS = pytest.mark.parametrize("graph_backend", ["falkordb", NEO4J], indirect=True)
ON_NEO4J = pytest.mark.parametrize("graph_backend", [NEO4J], indirect=True)


def require_neo4j() -> None:
    """Skips (or, under TIDINGS_REQUIRE_NEO4J=1, fails) where Neo4j cannot start."""
    if (reason := neo4j.unavailable()) is not None:
        unavailable(f"needs Neo4j: {reason}", required_by="TIDINGS_REQUIRE_NEO4J")
