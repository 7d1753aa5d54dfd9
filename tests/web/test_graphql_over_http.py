"""The GraphQL-over-HTTP spec, as graphql-http's audit checks it on a live server."""

from tests.web.conftest import require_node_package, run_node


async def test_every_must_and_should_of_the_audit_passes(live_url: str) -> None:
    require_node_package("graphql-http")
    results = await run_node("audit.mjs", live_url)
    failing = [
        f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"
    ]
    assert failing == []
    names = " ".join(r["name"] for r in results)
    assert len(results) >= 60  # the audit itself ran, MUSTs and SHOULDs
    assert "application/graphql-response+json" in names
