"""An S3 server on a loopback port, for the suite and `tidings dev`: the Versity S3
Gateway (versitygw, Apache-2.0) serving a local directory.

The Makefile builds it with `go install` where `go` exists, as it builds the
Neo4j launcher where Java exists. Its root keys travel in the environment (a
command line is public on the host); the bucket is private, as in production.
"""

import asyncio
import os
import shutil
from contextlib import AsyncExitStack
from pathlib import Path

from tidings.stores.breaker import Breaker
from tidings.stores.objects import ObjectStore
from tidings_tools.devstack import ChildProcess, accepts_connections, kept_secret

# The repository root: tools/tidings_tools/object_storage.py is three levels below it.
ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "build" / "bin" / "versitygw"
ACCESS_KEY_ID = "tidings-dev"
SECRET_FILE = "s3-secret"  # read back by stack.py
BUCKET = "tidings-media"


def unavailable() -> str | None:
    """Why the S3 server cannot be started here, or None when it can."""
    if BINARY.exists():
        return None
    if shutil.which("go") is None:
        return "Go (`go`) is not on PATH, so the S3 server (versitygw) cannot be built"
    return "the S3 server is not built: `make` builds build/bin/versitygw where go exists"


def secret(data_dir: Path) -> str:
    """The server's secret key, generated once into the data dir (mode 0600)."""
    return kept_secret(data_dir / SECRET_FILE, 40)


def start_versitygw(data_dir: Path, port: int, log_path: Path, secret_key: str) -> ChildProcess:
    """versitygw on 127.0.0.1:`port`, storing objects under `data_dir`; ready on return."""
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(BINARY),
        "--port", f"127.0.0.1:{port}",
        "--quiet",
        "posix", str(data_dir.resolve()),
    ]  # fmt: skip
    environment = dict(
        os.environ, ROOT_ACCESS_KEY_ID=ACCESS_KEY_ID, ROOT_SECRET_ACCESS_KEY=secret_key
    )
    server = ChildProcess("versitygw", argv, log_path, environment)
    server.wait_until(accepts_connections(port, b"", b""), timeout=60)
    return server


def settings_for(port: int, secret_key: str, bucket: str = BUCKET) -> dict[str, str]:
    """The TIDINGS_* variables that point a process at this server's bucket."""
    return {
        "TIDINGS_S3_BUCKET": bucket,
        "TIDINGS_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "TIDINGS_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "TIDINGS_S3_SECRET_ACCESS_KEY": secret_key,
    }


def create_bucket(port: int, secret_key: str, bucket: str = BUCKET) -> None:
    """Creates the bucket if it is missing (production creates its own)."""

    async def create() -> None:
        async with AsyncExitStack() as stack:
            objects = await ObjectStore.open(
                stack,
                bucket=bucket,
                prefix="-",
                endpoint_url=f"http://127.0.0.1:{port}",
                region="us-east-1",
                access_key_id=ACCESS_KEY_ID,
                secret_access_key=secret_key,
                breaker=Breaker("objects", deadline=10),
            )
            await objects.ensure_bucket()

    asyncio.run(create())
