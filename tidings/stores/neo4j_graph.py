"""The friend graph on Neo4j, through the official async driver.

Runs the Cypher shared with FalkorDB. Neo4j has no separate graphs per key, so
a namespace other than the default gets its own node label (`User_<namespace>`),
which keeps deployments or test runs that share one database apart.
"""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from neo4j import (
    READ_ACCESS,
    WRITE_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncSession,
)
from neo4j.exceptions import CypherSyntaxError

from tidings.stores.breaker import Breaker
from tidings.stores.cypher_graph import CypherGraph

DEFAULT_NAMESPACE = "tidings"


def label_for(namespace: str) -> str:
    return "User" if namespace == DEFAULT_NAMESPACE else f"User_{namespace.replace('-', '_')}"


class Neo4jGraph(CypherGraph):
    # Planned as GetDegree: read from the node, no relationship visited.
    degree = "COUNT { (u)-[:FRIEND]-() }"

    def __init__(
        self,
        driver: AsyncDriver,
        database: str | None,
        label: str,
        breaker: Breaker | None = None,
        bulk_deadline: float = 120.0,
    ) -> None:
        super().__init__(breaker, bulk_deadline)
        self._driver = driver
        self._database = database
        self._label = label
        self._constraint = f"{label.lower()}_id_unique"

    @classmethod
    def from_url(
        cls,
        url: str,
        namespace: str,
        breaker: Breaker | None = None,
        bulk_deadline: float = 120.0,
    ) -> "Neo4jGraph":
        parts = urlsplit(url)
        auth = None
        if parts.username:
            auth = (parts.username, parts.password or "")
        netloc = parts.hostname or "127.0.0.1"
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        address = urlunsplit((parts.scheme, netloc, "", parts.query, ""))
        database = parts.path.strip("/") or None
        driver = AsyncGraphDatabase.driver(
            address,
            auth=auth,
            # Planner hints (the bulk load's cartesian product of two index seeks),
            # "label unknown yet" on an empty database, and the deprecation of
            # `CALL { WITH x ... }` (its successor `CALL (x) { ... }` is Neo4j-only;
            # the queries are shared with FalkorDB) are noise in our logs.
            # docs/neo4j-plans.md has the plans.
            notifications_min_severity="WARNING",
            notifications_disabled_classifications=["UNRECOGNIZED", "DEPRECATION"],
        )
        return cls(driver, database, label_for(namespace), breaker, bulk_deadline)

    def session(self) -> AsyncSession:
        """A session on this adapter's database, for tools (bench/graph_stores.py
        PROFILEs the shared queries through it)."""
        return self._driver.session(database=self._database)

    def _query(self, text: str) -> str:
        return text.replace(":User", f":{self._label}")

    async def _rows(self, text: str, params: dict[str, Any], *, read_only: bool) -> list[Any]:
        query = self._query(text)

        async def work(transaction: AsyncManagedTransaction) -> list[Any]:
            result = await transaction.run(query, params)
            return [record.values() async for record in result]

        # Managed transactions retry transient failures (leader changes, deadlocks);
        # a session per call is cheap (connections are pooled) and, unlike
        # execute_query, skips a bookmark round of its own: 2.7 ms against 4.2 ms
        # for a one-row read here.
        access = READ_ACCESS if read_only else WRITE_ACCESS
        async with self._driver.session(
            database=self._database, default_access_mode=access
        ) as session:
            if read_only:
                return await session.execute_read(work)
            return await session.execute_write(work)

    async def ensure_schema(self) -> None:
        create = f"CREATE CONSTRAINT {self._constraint} IF NOT EXISTS"
        node = f"(u:{self._label})"
        try:
            await self._run(f"{create} FOR {node} REQUIRE u.id IS UNIQUE", {}, read_only=False)
        except CypherSyntaxError:  # Neo4j 4.4 spells it the older way
            await self._run(f"{create} ON {node} ASSERT u.id IS UNIQUE", {}, read_only=False)

    async def drop(self) -> None:
        # Only this namespace's nodes: other data in the database is not ours.
        await self._run(f"MATCH (u:{self._label}) DETACH DELETE u", {}, read_only=False, bulk=True)
        await self._run(f"DROP CONSTRAINT {self._constraint} IF EXISTS", {}, read_only=False)

    async def close(self) -> None:
        await self._driver.close()
