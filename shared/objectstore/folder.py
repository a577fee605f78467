"""Objects as files in a local folder (embedded mode). Writes go to a temporary file first and are renamed
into place, so a crash never leaves half an object under its key."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from shared.objectstore import CHUNK


class FolderStore:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        if not key or ".." in key.split("/") or key.startswith("/"):
            raise ValueError(f"invalid object key {key!r}")
        return self.root / key

    async def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    async def put(self, key: str, data: BinaryIO, size: int, content_type: str) -> None:
        await asyncio.to_thread(self._put, self._path(key), data)

    @staticmethod
    def _put(target: Path, data: BinaryIO) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(data, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            # A failed write must not leave its partial file behind to fill the disk.
            os.unlink(tmp)
            raise

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(open, self._path(key), "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def ready(self) -> bool:
        return self.root.is_dir() and os.access(self.root, os.W_OK)
