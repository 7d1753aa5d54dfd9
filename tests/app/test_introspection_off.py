from typing import Any

import pytest

from tests.app.conftest import Api


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {"introspection": False}


async def test_introspection_can_be_switched_off(api: Api) -> None:
    body = await api.call("alice", "{ __schema { types { name } } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await api.data("alice", "{ viewer { id } }")) == {"viewer": {"id": "alice"}}
