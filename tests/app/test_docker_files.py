"""No Docker engine runs here, so the deployment files are checked statically:
they parse, follow the lint rules below, and agree with the code's settings."""

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tidings.app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yml").read_text())
    return parsed


def dockerfile() -> list[str]:
    """Its instructions, continuation lines joined, comments dropped."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        " ".join(line.split())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def setting_names(environment: dict[str, str] | list[str]) -> set[str]:
    keys = environment if isinstance(environment, list) else list(environment)
    return {key.split("=", 1)[0] for key in keys}


def test_compose_has_every_piece_with_a_healthcheck_and_a_restart_policy() -> None:
    services = compose()["services"]
    assert set(services) == {"mongo", "neo4j", "redis", "objects", "api", "worker"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
        assert service["restart"] == "unless-stopped", name
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


def test_dockerfile_lint_rules() -> None:
    """The rules of hadolint that apply here, since hadolint itself is not."""
    instructions = dockerfile()
    for line in instructions:
        keyword, _, rest = line.partition(" ")
        if keyword == "FROM":
            image = rest.split()[0]
            assert ":" in image, f"pin a tag: {line}"
            assert not image.endswith(":latest"), f"pin a tag: {line}"
        if keyword == "ADD":
            raise AssertionError(f"use COPY, not ADD: {line}")
        if keyword == "RUN" and "pip install" in rest:
            assert "--no-cache-dir" in rest, line
        if keyword == "RUN" and "apt-get install" in rest:
            assert "--no-install-recommends" in rest, line
        assert not re.search(r"\bsudo\b|curl .*\| *sh", line), line
    final_stage = instructions[
        max(i for i, step in enumerate(instructions) if step.startswith("FROM "))
    ]
    assert "AS" not in final_stage.split()  # the last stage is the image
    keywords = [line.split()[0] for line in instructions]
    # Nothing runs as root after the user is set, and the process runs as it.
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_the_image_installs_the_lock_with_hashes_and_no_dev_servers() -> None:
    installs = [line for line in dockerfile() if line.startswith("RUN") and "pip install" in line]
    assert any("--require-hashes -r /tmp/requirements.lock" in line for line in installs)
    assert any("--no-deps" in line for line in installs)
    assert not any("embedded" in line or "[dev" in line for line in installs)


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins: dict[str, str] = {}
    current = ""
    hashes: dict[str, int] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==([^ ;\\]+)", line):
            current = canonicalize_name(match[1])
            pins[current] = match[2]
        elif "--hash=sha256:" in line:
            hashes[current] = hashes.get(current, 0) + 1
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name]), (name, pins[name])
    assert set(hashes) == set(pins)  # every pin carries its hashes
    tools = tomllib.loads((ROOT / "tools" / "pyproject.toml").read_text())["project"]
    for dependency in tools["optional-dependencies"]["embedded"]:
        # The dev servers stay out of the image.
        assert canonicalize_name(Requirement(dependency).name) not in pins, dependency


def test_the_build_context_leaves_out_everything_local() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def included(path: str) -> bool:
        verdict = True
        for pattern in patterns:
            negated = pattern.startswith("!")
            bare = pattern.removeprefix("!").rstrip("/")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/"):
                verdict = negated
        return verdict

    for local in (
        ".venv/bin/python",
        "node_modules/react/index.js",
        ".tidings/stack.json",
        ".git/HEAD",
        "tests/conftest.py",
        "tidings/app/graphiql_assets/vendor/x.js",
    ):
        assert not included(local), local
    copied = [
        line.split()[1]
        for line in dockerfile()
        if line.startswith("COPY ") and "--from" not in line
    ]
    for source in copied:
        assert included(source.rstrip("/")), f"the Dockerfile copies {source}, which is ignored"


def test_health_checks_mean_ready_and_read_the_configured_port() -> None:
    [healthcheck] = [line for line in dockerfile() if line.startswith("HEALTHCHECK")]
    assert healthcheck.endswith('CMD ["tidings", "probe"]')  # /readyz on TIDINGS_PORT
    services = compose()["services"]
    mongo = " ".join(services["mongo"]["healthcheck"]["test"])
    assert "isWritablePrimary" in mongo  # healthy once there is a primary, not before
    assert "PONG" in " ".join(services["redis"]["healthcheck"]["test"])
    assert services["api"]["healthcheck"]["test"] == ["CMD", "tidings", "probe"]
    worker_probe = services["worker"]["healthcheck"]["test"]
    port = services["worker"]["environment"]["TIDINGS_WORKER_METRICS_PORT"]
    assert f"127.0.0.1:{port}/" in worker_probe[-1]


def test_only_the_graphql_port_is_public_and_the_explorer_is_off() -> None:
    services = compose()["services"]
    api = services["api"]
    published = {shlex.split(port)[0].rsplit(":", 1)[1] for port in api["ports"]}
    assert published == {api["environment"]["TIDINGS_PORT"]}
    for name in ("api", "worker"):
        names = setting_names(services[name]["environment"])
        assert "ports" not in services[name] or name == "api"
        assert "TIDINGS_GRAPHIQL" not in names
        assert "TIDINGS_INTROSPECTION" not in names
    defaults = Settings(jwt_secret="x")
    assert defaults.graphiql is False
    assert defaults.introspection is False
    assert api["environment"]["TIDINGS_API_METRICS_PORT"] not in published
    exposed = [line.split()[1] for line in dockerfile() if line.startswith("EXPOSE")]
    env_port = re.search(r"TIDINGS_PORT=(\d+)", " ".join(dockerfile()))
    assert env_port is not None
    assert exposed == [env_port[1]] == [api["environment"]["TIDINGS_PORT"]]


def test_every_environment_name_in_the_image_is_a_real_setting() -> None:
    fields = set(Settings.model_fields)
    for line in dockerfile():
        for name in re.findall(r"\b(TIDINGS_[A-Z_]+)=", line):
            assert name.removeprefix("TIDINGS_").lower() in fields, name
