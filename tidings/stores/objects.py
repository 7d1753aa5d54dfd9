"""Media objects in a private S3-compatible bucket, through aiobotocore.

The API never streams an object: clients PUT and GET them directly with URLs
signed here. Every call to the server runs under the store's deadline and
circuit breaker; signing is local and needs no call.
"""

from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from tidings.stores.breaker import Breaker

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

T = TypeVar("T")

# S3 takes at most this many keys in one DeleteObjects call.
_DELETE_BATCH = 1_000


class ObjectMissing(Exception):
    """No object under this key (never uploaded, or gone)."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}


def _server_side(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return int(status) >= 500


class ObjectStore:
    def __init__(
        self,
        client: "S3Client",
        bucket: str,
        prefix: str,
        breaker: Breaker,
        signer: "S3Client | None" = None,
    ) -> None:
        self._client = client
        # Signs the URLs clients use: the same client, unless clients reach the
        # server by another address than we do.
        self._signer = signer or client
        self._bucket = bucket
        # Several deployments (or test runs) may share a bucket: each under its prefix.
        self._prefix = prefix.strip("/") + "/"
        self._breaker = breaker

    @classmethod
    async def open(
        cls,
        stack: AsyncExitStack,
        *,
        bucket: str,
        prefix: str,
        endpoint_url: str | None,
        public_endpoint_url: str | None = None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        breaker: Breaker,
    ) -> "ObjectStore":
        """A client whose lifetime `stack` owns; it connects on first use."""
        config = AioConfig(
            signature_version="s3v4",
            # Path-style addressing works with every S3 API, a bucket name with
            # dots or a gateway on an IP address included.
            s3={"addressing_style": "path"},
            connect_timeout=breaker.deadline,
            read_timeout=breaker.deadline,
            # The breaker decides about retrying; botocore's own retries would
            # multiply the deadline.
            retries={"max_attempts": 1, "mode": "standard"},
            max_pool_connections=64,
        )
        session = get_session()

        async def client_at(endpoint: str | None) -> "S3Client":
            return await stack.enter_async_context(
                session.create_client(
                    "s3",
                    endpoint_url=endpoint,
                    region_name=region,
                    aws_access_key_id=access_key_id,
                    aws_secret_access_key=secret_access_key,
                    config=config,
                )
            )

        client = await client_at(endpoint_url)
        signer = None
        if public_endpoint_url and public_endpoint_url != endpoint_url:
            signer = await client_at(public_endpoint_url)
        return cls(client, bucket, prefix, breaker, signer)

    def key(self, name: str) -> str:
        return self._prefix + name

    async def _call(self, operation: Awaitable[T], deadline: float | None = None) -> T:
        return await self._breaker.call(_as_outage(operation), deadline=deadline)

    async def upload_url(self, name: str, content_type: str, size: int, seconds: int) -> str:
        """A presigned PUT for exactly `size` bytes of `content_type`: the signature
        covers both headers, so the server refuses any other length or type."""
        return await self._signer.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self._bucket,
                "Key": self.key(name),
                "ContentType": content_type,
                "ContentLength": size,
            },
            ExpiresIn=seconds,
        )

    async def download_url(self, name: str, seconds: int) -> str:
        return await self._signer.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": self.key(name)}, ExpiresIn=seconds
        )

    async def size(self, name: str) -> int:
        """The object's size in bytes, or ObjectMissing."""

        async def head() -> int:
            try:
                found = await self._client.head_object(Bucket=self._bucket, Key=self.key(name))
            except ClientError as error:
                if _missing(error):
                    raise ObjectMissing(name) from None
                raise
            return int(found["ContentLength"])

        return await self._call(head())

    async def read(self, name: str, first: int | None = None) -> bytes:
        """The object's bytes, or only its first `first`; ObjectMissing if absent."""

        async def get() -> bytes:
            extra: dict[str, Any] = {}
            if first is not None:
                extra["Range"] = f"bytes=0-{first - 1}"
            try:
                found = await self._client.get_object(
                    Bucket=self._bucket, Key=self.key(name), **extra
                )
            except ClientError as error:
                if _missing(error):
                    raise ObjectMissing(name) from None
                raise
            async with found["Body"] as body:
                return await body.read()

        return await self._call(get())

    async def write(self, name: str, data: bytes, content_type: str) -> None:
        await self._call(
            self._client.put_object(
                Bucket=self._bucket, Key=self.key(name), Body=data, ContentType=content_type
            )
        )

    async def delete(self, names: Sequence[str]) -> None:
        """Deletes these objects; a missing one is no error."""
        for start in range(0, len(names), _DELETE_BATCH):
            batch = names[start : start + _DELETE_BATCH]
            await self._call(
                self._client.delete_objects(
                    Bucket=self._bucket,
                    Delete={"Objects": [{"Key": self.key(n)} for n in batch], "Quiet": True},
                )
            )

    async def listing(self, page_size: int = 1_000) -> AsyncIterator[list[StoredObject]]:
        """Every object under the prefix, a page at a time, names without the prefix."""
        token: str | None = None
        while True:
            extra: dict[str, Any] = {"ContinuationToken": token} if token else {}
            page = await self._call(
                self._client.list_objects_v2(
                    Bucket=self._bucket, Prefix=self._prefix, MaxKeys=page_size, **extra
                )
            )
            yield [
                StoredObject(
                    item["Key"][len(self._prefix) :], int(item["Size"]), item["LastModified"]
                )
                for item in page.get("Contents", [])
            ]
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    async def ping(self) -> None:
        await self._call(self._client.head_bucket(Bucket=self._bucket))

    async def ensure_bucket(self) -> None:
        """Creates the bucket if it is missing: for the embedded stack and tests;
        production creates its bucket, with its lifecycle and CORS rules, itself."""

        async def create() -> None:
            try:
                await self._client.head_bucket(Bucket=self._bucket)
            except ClientError:
                await self._client.create_bucket(Bucket=self._bucket)

        await self._call(create())


async def _as_outage(operation: Awaitable[T]) -> T:
    """The object store's failures as the breaker knows outages: a refused or
    broken connection, or the server's own 5xx, are ConnectionError; a 4xx is the
    request's fault and stays a ClientError."""
    try:
        return await operation
    except ClientError as error:
        if _server_side(error):
            raise ConnectionError(f"object store answered {error}") from error
        raise
    except (BotoCoreError, aiohttp.ClientError) as error:
        raise ConnectionError(f"object store unreachable: {error}") from error
