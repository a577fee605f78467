"""MinIO / S3 through the `minio` SDK. URL: `s3://ACCESS_KEY:SECRET_KEY@host:port/bucket` (add `?secure=1`
for TLS). The SDK is synchronous, so calls run in worker threads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from minio import Minio
from minio.error import S3Error

from shared.objectstore import CHUNK

MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchBucket"}


class S3Store:
    def __init__(self, client: Minio, bucket: str):
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_url(cls, url: str) -> S3Store:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        secure = query.get("secure", ["0"])[0] in ("1", "true", "yes")
        region = query.get("region", ["us-east-1"])[0]
        bucket = parts.path.strip("/") or "sarabun"
        client = Minio(
            f"{parts.hostname}:{parts.port or (443 if secure else 9000)}",
            access_key=unquote(parts.username or ""),
            secret_key=unquote(parts.password or ""),
            secure=secure,
            region=region,
        )
        return cls(client, bucket)

    async def ensure(self) -> None:
        if not await asyncio.to_thread(self.client.bucket_exists, bucket_name=self.bucket):
            await asyncio.to_thread(self.client.make_bucket, bucket_name=self.bucket)

    async def put(self, key: str, data: BinaryIO, size: int, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            bucket_name=self.bucket,
            object_name=key,
            data=data,
            length=size,
            content_type=content_type,
        )

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        response = await asyncio.to_thread(self.client.get_object, bucket_name=self.bucket, object_name=key)
        try:
            while chunk := await asyncio.to_thread(response.read, CHUNK):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self.client.stat_object, bucket_name=self.bucket, object_name=key)
            return True
        except S3Error as exc:
            if exc.code in MISSING:
                return False
            raise

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.remove_object, bucket_name=self.bucket, object_name=key)

    async def ready(self) -> bool:
        try:
            return await asyncio.to_thread(self.client.bucket_exists, bucket_name=self.bucket)
        except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
            return False
