"""Generated documents and bodies against the real app: never a 5xx, never INTERNAL."""

import json
from typing import Any

import hypothesis_graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.conftest import Api, token
from tidings.schema.schema import build_schema

SCHEMA = str(build_schema())
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def check(api: Api, payload: bytes, authorized: bool = True) -> None:
    headers = {"Content-Type": "application/json"}
    if authorized:
        headers["Authorization"] = f"Bearer {token('fuzzer')}"
    response = await api.http.post("/graphql", content=payload, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        body: dict[str, Any] = response.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert "INTERNAL" not in codes, body
        assert None not in codes, body


@FUZZ
@given(query=hypothesis_graphql.queries(SCHEMA))
async def test_generated_queries(api: Api, query: str) -> None:
    await check(api, json.dumps({"query": query}).encode())


@FUZZ
@given(mutation=hypothesis_graphql.mutations(SCHEMA))
async def test_generated_mutations(api: Api, mutation: str) -> None:
    await check(api, json.dumps({"query": mutation}).encode())


@FUZZ
@given(
    variables=st.dictionaries(
        st.sampled_from(["first", "after", "ids", "id", "body"]),
        st.one_of(
            st.none(), st.integers(), st.text(), st.lists(st.text(), max_size=5), st.floats()
        ),
    ),
    authorized=st.booleans(),
)
async def test_arbitrary_variables(api: Api, variables: dict[str, Any], authorized: bool) -> None:
    query = (
        "query($first: Int, $after: String, $ids: [ID!]!, $id: ID!) {"
        " timeline(first: $first, after: $after) { edges { cursor } }"
        " posts(ids: $ids) { id } post(id: $id) { id } }"
    )
    await check(api, json.dumps({"query": query, "variables": variables}).encode(), authorized)


@FUZZ
@given(body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
async def test_arbitrary_bodies(api: Api, body: bytes) -> None:
    await check(api, body)
