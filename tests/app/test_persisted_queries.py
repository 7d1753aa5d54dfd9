"""Automatic persisted queries, as Apollo's clients speak them."""

import hashlib
from typing import Any

import pytest

from tests.app.conftest import Api, token
from tidings.schema.persisted import PersistedQueries, PersistedQueryNotFound

QUERY = "{ viewer { id } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(digest: str = DIGEST, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def send(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.http.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {token('alice')}"}
    )
    answer: dict[str, Any] = response.json()
    return answer


async def test_a_hash_is_unknown_until_sent_with_its_query_then_enough(api: Api) -> None:
    first = await send(api, {"extensions": persisted()})
    [error] = first["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    registered = await send(api, {"query": QUERY, "extensions": persisted()})
    assert registered == {"data": {"viewer": {"id": "alice"}}}
    # From now on the hash alone runs it, in any case of hex digits.
    for digest in (DIGEST, DIGEST.upper()):
        assert await send(api, {"extensions": persisted(digest)}) == registered


async def test_a_wrong_hash_or_version_is_refused_and_remembers_nothing(api: Api) -> None:
    wrong = hashlib.sha256(b"{ __typename }").hexdigest()
    refused = await send(api, {"query": QUERY, "extensions": persisted(wrong)})
    assert refused["errors"][0]["message"] == "provided sha does not match query"
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "PersistedQueryNotFound" in str(await send(api, {"extensions": persisted(wrong)}))
    old = await send(api, {"query": QUERY, "extensions": persisted(version=2)})
    assert old["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    short = await send(api, {"extensions": persisted("abc")})
    assert short["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_store_is_bounded_and_forgets_the_least_recently_used() -> None:
    store = PersistedQueries(capacity=2)
    queries = [f"{{ q{n} }}" for n in range(3)]
    digests = [hashlib.sha256(q.encode()).hexdigest() for q in queries]
    for query, digest in zip(queries[:2], digests[:2], strict=True):
        store.resolve(query, persisted(digest))
    store.resolve(None, persisted(digests[0]))  # q0 is used again: q1 is now the oldest
    store.resolve(queries[2], persisted(digests[2]))
    assert store.resolve(None, persisted(digests[0])) == queries[0]
    assert store.resolve(None, persisted(digests[2])) == queries[2]
    with pytest.raises(PersistedQueryNotFound):
        store.resolve(None, persisted(digests[1]))
    # A query without the extension is what it was.
    assert store.resolve(QUERY, None) == QUERY
