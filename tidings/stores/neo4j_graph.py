"""The friend graph on Neo4j, through the official async driver.

Runs the Cypher shared with FalkorDB. Neo4j has no separate graphs per key, so
a namespace other than the default gets its own node label (`User_<namespace>`),
which keeps deployments or test runs that share one database apart.
"""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from neo4j import AsyncDriver, AsyncGraphDatabase, RoutingControl
from neo4j.exceptions import CypherSyntaxError

from tidings.stores.breaker import Breaker
from tidings.stores.cypher_graph import CypherGraph

DEFAULT_NAMESPACE = "tidings"


def label_for(namespace: str) -> str:
    return "User" if namespace == DEFAULT_NAMESPACE else f"User_{namespace.replace('-', '_')}"


class Neo4jGraph(CypherGraph):
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
        driver = AsyncGraphDatabase.driver(address, auth=auth)
        return cls(driver, database, label_for(namespace), breaker, bulk_deadline)

    def _query(self, text: str) -> str:
        return text.replace(":User", f":{self._label}")

    async def _rows(self, text: str, params: dict[str, Any], *, read_only: bool) -> list[Any]:
        routing = RoutingControl.READ if read_only else RoutingControl.WRITE
        # execute_query retries transient failures (leader changes, deadlocks).
        result = await self._driver.execute_query(
            self._query(text), params, database_=self._database, routing_=routing
        )
        return [record.values() for record in result.records]

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
