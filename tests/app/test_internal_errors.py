import json
import logging

import pytest

from tests.app.conftest import Api, token
from tidings.app.logs import JsonFormatter
from tidings.resolvers import queries


@pytest.fixture
def broken_post_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """`post` fails the way an internal fault would, with internals in its message."""

    async def broken(*_args: object) -> None:
        raise RuntimeError("connection to /var/secret/db.sock refused")

    monkeypatch.setattr(queries, "post", broken)


@pytest.mark.usefixtures("broken_post_field")
async def test_unexpected_errors_are_masked_and_logged_with_a_request_id(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        body = await api.call("alice", '{ post(id: "1") { id } }')
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    request_id = error["extensions"]["requestId"]
    assert "secret" not in str(body)
    assert "Traceback" not in str(body)
    assert request_id in caplog.text
    assert "/var/secret/db.sock" in caplog.text


@pytest.mark.usefixtures("broken_post_field")
async def test_request_ids_reach_headers_errors_and_json_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"X-Request-ID": "trace-42", "Authorization": f"Bearer {token('alice')}"}
    with caplog.at_level(logging.ERROR):
        response = await api.http.post(
            "/graphql", json={"query": '{ post(id: "1") { id } }'}, headers=headers
        )
    assert response.headers["x-request-id"] == "trace-42"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "trace-42"
    [record] = [r for r in caplog.records if r.name == "tidings.schema.errors"]
    logged = json.loads(JsonFormatter().format(record))
    assert logged["level"] == "ERROR"
    assert "exception" in logged
    # A malformed id from outside is replaced, never echoed.
    plain = await api.http.get("/healthz", headers={"X-Request-ID": "bad id\\n"})
    assert plain.headers["x-request-id"] != "bad id\\n"
    assert len(plain.headers["x-request-id"]) == 32
