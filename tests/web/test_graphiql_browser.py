"""GraphiQL in headless Chromium, offline: nothing but the API may be reached."""

import os

import httpx

from tests.app.conftest import token
from tests.web.conftest import CHROMIUM, require, require_node_package, run_node
from tidings.app.graphiql import vendor_files_present

BEFRIEND = "mutation($id: ID!) { addFriend(userId: $id) { friendship } }"


async def befriend(url: str, one: str, other: str) -> None:
    async with httpx.AsyncClient() as http:
        for me, them in ((one, other), (other, one)):
            answer = await http.post(
                url,
                json={"query": BEFRIEND, "variables": {"id": them}},
                headers={"Authorization": f"Bearer {token(me)}"},
            )
            assert "errors" not in answer.json(), answer.text


async def test_graphiql_signs_in_queries_and_streams_with_the_network_blocked(
    live_url: str,
) -> None:
    require_node_package("playwright-core")
    require(os.access(CHROMIUM, os.X_OK), f"no Chromium at {CHROMIUM} (Debian's `chromium`)")
    require(vendor_files_present(), "GraphiQL's files are not vendored (`make` does it)")
    await befriend(live_url, "alice", "bob")

    report = await run_node("graphiql.mjs", f"{live_url}#token={token('alice')}", token("bob"))

    assert report["blocked"] == []  # it asked nothing of any other host
    assert report["pageErrors"] == []
    assert report["introspectionStatus"] == 200
    assert report["signedInAs"].startswith("Signed in as alice")
    assert "#token" not in report["urlAfterSignIn"]  # the token left the address bar
    assert report["query"] == {"data": {"viewer": {"id": "alice"}}}
    live = report["live"]["data"]["timelinePost"]
    assert live["author"] == {"id": "bob"}
    assert live["body"].startswith("live from the browser test")
    assert report["signedOutAs"].startswith("Not signed in")
    [refusal] = report["refusal"]["errors"]
    assert refusal["extensions"]["closeCode"] == 4403
    assert "sign in" in refusal["message"]
    assert report["socketsForRefusal"] == 1  # refused once, never retried
