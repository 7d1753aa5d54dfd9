"""Which graph store a test runs on: FalkorDB by default, Neo4j as well where the
graph's behaviour is what the test is about.

    pytestmark = ON_BOTH_GRAPHS   # the module runs once per store

Neo4j runs are marked `neo4j`; they skip, saying why, where Java or the launcher
is missing, and fail instead under TIDINGS_REQUIRE_NEO4J=1 (set by `.ci/run`).
"""

import pytest

NEO4J = pytest.param("neo4j", marks=pytest.mark.neo4j, id="neo4j")
ON_BOTH_GRAPHS = pytest.mark.parametrize("graph_backend", ["falkordb", NEO4J], indirect=True)
ON_NEO4J = pytest.mark.parametrize("graph_backend", [NEO4J], indirect=True)
