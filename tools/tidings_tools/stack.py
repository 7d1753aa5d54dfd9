"""Where a running `tidings dev` keeps its state, for the commands run beside it.

`tidings dev` chooses free ports at each start and says where its stores are in
`stack.json` in the data dir; it keeps the JWT secret it generated there too.
`seed`, `bench`, `token` and `dead-letters` find them, unless the environment
names them.
"""

import json
import os
from pathlib import Path

from pydantic import SecretStr

from tidings.app.settings import Settings

# The JWT secret `tidings dev` generated.
DEV_SECRET_FILE = "jwt-secret"
STACK_FILE = "stack.json"
_STACK_SETTINGS = ("redis_url", "graph_url", "mongo_uri")
# The media bucket, where `tidings dev` started an S3 server; its secret key is
# kept in the data dir (object_storage.SECRET_FILE).
_MEDIA_SETTINGS = ("s3_bucket", "s3_endpoint_url", "s3_access_key_id")
_S3_SECRET_FILE = "s3-secret"


def write_stack_file(data_dir: Path, stack: dict[str, object]) -> None:
    """Readable by this user only: a store URL may carry a password."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / STACK_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(json.dumps(stack, indent=2))


def stack_file(settings: Settings) -> Path:
    return settings.data_dir / STACK_FILE


def stack_is_known(settings: Settings) -> bool:
    """Whether the stores were named (environment) or found (a running dev stack)."""
    named = all(f"TIDINGS_{name.upper()}" in os.environ for name in _STACK_SETTINGS)
    return named or stack_file(settings).exists()


def with_running_stack(settings: Settings) -> Settings:
    """These settings, pointed at the stores of a running `tidings dev` for every
    store URL the environment does not set, with its JWT secret if none is set."""
    update: dict[str, object] = {}
    path = stack_file(settings)
    if path.exists():
        stack = json.loads(path.read_text())
        update = {
            name: stack[name]
            for name in _STACK_SETTINGS + _MEDIA_SETTINGS
            if f"TIDINGS_{name.upper()}" not in os.environ and name in stack
        }
        secret_file = settings.data_dir / _S3_SECRET_FILE
        if "s3_bucket" in update and secret_file.exists():
            update["s3_secret_access_key"] = SecretStr(secret_file.read_text().strip())
    if (secret := known_jwt_secret(settings)) is not None:
        update["jwt_secret"] = SecretStr(secret)
    return settings.model_copy(update=update)


def running_api_url(settings: Settings) -> str:
    """The GraphQL URL of the running `tidings dev`, else the configured one."""
    path = stack_file(settings)
    if path.exists() and "TIDINGS_PORT" not in os.environ:
        url = json.loads(path.read_text()).get("api_url")
        if isinstance(url, str):
            return url
    return f"http://{settings.host}:{settings.port}/graphql"


def known_jwt_secret(settings: Settings) -> str | None:
    """TIDINGS_JWT_SECRET, or the one `tidings dev` keeps in the data dir, if any."""
    if settings.jwt_secret is not None and settings.jwt_secret.get_secret_value():
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir / DEV_SECRET_FILE
    return path.read_text().strip() if path.exists() else None
