"""A GraphQL-over-HTTP client that signs in as any user: for tests, seeds and benchmarks."""

import json
from typing import Any

import httpx

from tidings.app.auth import issue_token


class GraphQLFailure(RuntimeError):
    """The API answered with a non-200 status or with GraphQL errors."""


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, url: str, secret: str, ttl_seconds: int = 3_600):
        self.http = http
        self._url = url
        self._secret = secret
        self._ttl = ttl_seconds
        self._tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self._tokens:
            self._tokens[user] = issue_token(user, self._secret, self._ttl)
        return self._tokens[user]

    async def post(
        self, user: str | None, query: str, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        """The raw response; `user` None sends no token."""
        headers = {"Content-Type": "application/json"}
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        # Encoded by hand, as a client would, so lone surrogates travel as escapes.
        payload = json.dumps({"query": query, "variables": variables or {}})
        return await self.http.post(self._url, content=payload, headers=headers)

    async def call(
        self, user: str | None, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The whole GraphQL response (data and errors) of a 200 answer."""
        response = await self.post(user, query, variables)
        if response.status_code != 200:
            raise GraphQLFailure(f"the API answered {response.status_code}: {response.text}")
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, user: str | None, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The data of a response without errors."""
        body = await self.call(user, query, variables)
        if "errors" in body:
            raise GraphQLFailure(f"the API answered with errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data
