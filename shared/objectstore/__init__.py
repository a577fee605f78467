"""The object store port. `open_store(url)` picks the adapter: a local folder or MinIO/S3."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 256 * 1024


class ObjectStore(Protocol):
    async def ensure(self) -> None:
        """Creates the bucket or folder if missing."""

    async def put(self, key: str, data: BinaryIO, size: int, content_type: str) -> None: ...

    def stream(self, key: str) -> AsyncIterator[bytes]: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None: ...

    async def ready(self) -> bool: ...


def open_store(url: str | None, data_dir: Path) -> ObjectStore:
    if not url:
        from shared.objectstore.folder import FolderStore

        return FolderStore(data_dir / "objects")
    if url.startswith("file://"):
        from shared.objectstore.folder import FolderStore

        return FolderStore(Path(url.removeprefix("file://")))
    if url.startswith(("s3://", "minio://")):
        from shared.objectstore.s3 import S3Store

        return S3Store.from_url(url)
    raise ValueError(f"SARABUN_STORAGE_URL: unsupported scheme in {url!r} (use file://, s3:// or minio://)")
