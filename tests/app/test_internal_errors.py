import logging

import pytest

from tests.app.conftest import Api
from tidings.resolvers import queries


async def test_unexpected_errors_are_masked_and_logged_with_a_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("connection to /var/secret/db.sock refused")

    monkeypatch.setattr(queries, "post", broken)
    with caplog.at_level(logging.ERROR):
        body = await api.call("alice", '{ post(id: "1") { id } }')
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    request_id = error["extensions"]["requestId"]
    assert "secret" not in str(body)
    assert "Traceback" not in str(body)
    assert request_id in caplog.text
    assert "/var/secret/db.sock" in caplog.text
