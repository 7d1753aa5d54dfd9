"""No Docker engine runs here, so the deployment files are checked statically:
they parse, and what they say agrees with the code's settings."""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tidings.app.settings import Settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yml").read_text())
    return parsed


def test_compose_has_every_piece_with_a_healthcheck() -> None:
    services = compose()["services"]
    assert set(services) == {"mongo", "neo4j", "redis", "api", "worker"}
    for name in ("mongo", "neo4j", "redis", "api"):
        assert services[name]["healthcheck"]["test"], name
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] >= 1
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        for store in ("mongo", "neo4j", "redis"):
            assert depends[store]["condition"] == "service_healthy", (name, store)


def test_environment_names_real_settings_and_sensible_values() -> None:
    services = compose()["services"]
    fields = set(Settings.model_fields)
    for name in ("api", "worker"):
        environment = services[name]["environment"]
        for key in environment:
            assert key.startswith("TIDINGS_"), key
            assert key.removeprefix("TIDINGS_").lower() in fields, key
    api = services["api"]["environment"]
    assert "replicaSet=" in api["TIDINGS_MONGO_URI"]
    assert urlsplit(api["TIDINGS_GRAPH_URL"]).scheme == "neo4j"
    assert urlsplit(api["TIDINGS_REDIS_URL"]).hostname == "redis"
    published = services["api"]["ports"][0].rsplit(":", 1)[1]
    assert published == api["TIDINGS_PORT"] == "8000"


def test_redis_keeps_capped_timelines_compact() -> None:
    command = compose()["services"]["redis"]["command"]
    entries = int(command[command.index("--zset-max-listpack-entries") + 1])
    assert entries > Settings().timeline_max  # the cap plus the built-mark member
    assert command[command.index("--appendonly") + 1] == "yes"


def test_dockerfile_is_multi_stage_slim_and_not_root() -> None:
    lines = [line.strip() for line in (DOCKER / "Dockerfile").read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) >= 2
    assert all("slim" in stage for stage in stages)
    [user] = [line for line in lines if line.startswith("USER ")]
    assert user.split()[1] not in {"root", "0"}
    assert 'ENTRYPOINT ["tidings"]' in lines
    assert any(line.startswith("HEALTHCHECK") for line in lines)
