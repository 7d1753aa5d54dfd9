"""The Redis-facing tests of `feed/` run twice: on one server and on a Redis Cluster."""

import pytest

from tidings.app.settings import Settings


@pytest.fixture(params=["single-redis", "redis-cluster"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "single-redis":
        return settings
    port = request.getfixturevalue("redis_cluster_port")
    return settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{port}/0", "redis_cluster": True}
    )
