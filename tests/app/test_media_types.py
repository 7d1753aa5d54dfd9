"""GraphQL-over-HTTP's own media type: request errors are 4xx without `data`."""

import pytest

from tests.app.conftest import Api, token
from tidings.app.media_types import GRAPHQL_RESPONSE, JSON, response_media_type


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json;q=0.5", JSON),
        ("application/graphql-response+json;q=0, */*", JSON),
        ("application/*, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=oops", JSON),
        ("text/html", JSON),
    ],
)
def test_the_preferred_media_type_is_chosen(accept: str | None, chosen: str) -> None:
    assert response_media_type(accept) == chosen


async def post(
    api: Api, accept: str, query: str, user: str | None = "alice"
) -> tuple[int, str, dict[str, object]]:
    headers = {"Accept": accept, "Content-Type": "application/json"}
    if user:
        headers["Authorization"] = f"Bearer {token(user)}"
    response = await api.http.post("/graphql", json={"query": query}, headers=headers)
    return response.status_code, response.headers["content-type"], response.json()


@pytest.mark.parametrize(
    "query",
    ["{ viewer {", "{ nosuchfield }", "{ timeline(first: 1000) { edges { cursor } } }"],
)
async def test_a_request_error_is_400_without_data_under_the_spec_type(
    api: Api, query: str
) -> None:
    status, content_type, body = await post(api, GRAPHQL_RESPONSE, query)
    assert (status, content_type) == (400, GRAPHQL_RESPONSE)
    assert "data" not in body
    assert body["errors"]

    # Clients of plain JSON keep a 200 with `data: null`.
    status, content_type, body = await post(api, JSON, query)
    assert (status, content_type) == (200, JSON)
    assert body["data"] is None


async def test_executed_operations_are_200_under_the_spec_type(api: Api) -> None:
    status, content_type, body = await post(api, GRAPHQL_RESPONSE, "{ viewer { id } }")
    assert (status, content_type, body) == (
        200,
        GRAPHQL_RESPONSE,
        {"data": {"viewer": {"id": "alice"}}},
    )
    # A field error happened during execution: `data` is there, and so 200.
    status, _, body = await post(api, GRAPHQL_RESPONSE, "{ viewer { id } }", user=None)
    assert status == 200
    assert "data" in body
