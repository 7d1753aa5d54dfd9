"""Neo4j 5 Community on a loopback port, for the suite and `tidings dev --graph neo4j`.

The server is `neo4j-launcher/`: one Java class that starts Neo4j's embedded
database management service with Bolt on, built by Maven from Maven Central
(the Makefile builds it where `java` and `mvn` exist).
"""

import os
import shutil
from pathlib import Path

from tidings_tools.devstack import ChildProcess, kept_secret

# The repository root: tools/tidings_tools/neo4j.py is three levels below it.
ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "neo4j-launcher"
JAR = LAUNCHER / "target" / "neo4j-launcher.jar"
LIBRARIES = LAUNCHER / "target" / "lib"
PASSWORD_FILE = "neo4j-password"
# Ready means Bolt is up and the password set: the launcher prints this line then.
_READY = b"ready\n"


def unavailable() -> str | None:
    """Why Neo4j cannot be started here, or None when it can."""
    if shutil.which("java") is None:
        return "Java (`java`) is not on PATH"
    if not (JAR.exists() and LIBRARIES.is_dir()):
        return "the Neo4j launcher is not built: `make` builds it where java and mvn exist"
    return None


def password(data_dir: Path) -> str:
    """The server's password, generated once into the data dir (mode 0600)."""
    return kept_secret(data_dir / PASSWORD_FILE, 24)


def start_neo4j(
    home: Path, port: int, log_path: Path, secret: str, heap: str = "2g"
) -> ChildProcess:
    """Neo4j with its data in `home` and Bolt on 127.0.0.1:`port`; ready on return."""
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    home.mkdir(parents=True, exist_ok=True)
    argv = [
        "java",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-cp",
        f"{JAR}{os.pathsep}{LIBRARIES}/*",
        "dev.tidings.Neo4jLauncher",
        str(home.resolve()),
        str(port),
    ]
    # The password travels in the environment: a command line is public on the host.
    environment = dict(os.environ, NEO4J_PASSWORD=secret)
    logged = log_path.stat().st_size if log_path.exists() else 0
    server = ChildProcess("neo4j", argv, log_path, environment)

    def ready() -> bool:
        with log_path.open("rb") as log:
            log.seek(logged)
            return _READY in log.read()

    server.wait_until(ready, timeout=180)
    return server


def bolt_url(port: int, secret: str) -> str:
    # bolt://, a direct connection: a single server has no routing table to fetch.
    return f"bolt://neo4j:{secret}@127.0.0.1:{port}"
