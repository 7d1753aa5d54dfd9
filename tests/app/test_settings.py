from pathlib import Path

import pytest
from pydantic import SecretStr

from tidings.app.settings import Settings


def test_a_child_process_reads_back_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Settings(
        redis_url="redis://127.0.0.1:7000/0",
        redis_cluster=True,
        jwt_secret=SecretStr("s" * 40),
        post_rate=7,
        introspection=False,
        data_dir=Path("/tmp/somewhere"),
        ranking_url="http://127.0.0.1:9/rank",
    ).in_namespace("elsewhere")
    for key, value in original.as_environment().items():
        monkeypatch.setenv(key, value)
    assert Settings() == original


def test_a_namespace_moves_keys_graph_and_database() -> None:
    settings = Settings(
        graph_url="falkordb://h:1/old", mongo_uri="mongodb://a,b/old?replicaSet=rs0"
    ).in_namespace("n1")
    assert settings.namespace == "n1"
    assert settings.graph_url == "falkordb://h:1/n1"
    assert settings.mongo_uri == "mongodb://a,b/n1?replicaSet=rs0"
