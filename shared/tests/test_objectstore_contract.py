"""One contract for every object store adapter: the local folder (embedded mode) and S3 (MinIO in
production, moto's S3 server here) must behave the same to the services that use them."""

from __future__ import annotations

import io
import os

import pytest

from shared.objectstore import CHUNK, ObjectStore
from shared.objectstore.folder import FolderStore
from shared.objectstore.s3 import S3Store


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path) -> ObjectStore:
    if request.param == "folder":
        return FolderStore(tmp_path / "objects")
    return S3Store.from_url(request.getfixturevalue("s3_url"))


async def _read(store: ObjectStore, key: str) -> list[bytes]:
    return [chunk async for chunk in store.stream(key)]


async def test_ensure_makes_the_store_ready_and_can_be_repeated(store):
    assert await store.ready() is False  # nothing there yet: a fresh folder or bucket
    await store.ensure()
    assert await store.ready() is True
    await store.ensure()  # every replica runs it at start-up
    assert await store.ready() is True


async def test_put_then_stream_returns_the_same_bytes_in_bounded_chunks(store):
    await store.ensure()
    data = os.urandom(3 * CHUNK + 12345)

    await store.put("attachments/big", io.BytesIO(data), len(data), "application/pdf")
    chunks = await _read(store, "attachments/big")

    assert b"".join(chunks) == data
    assert len(chunks) > 1
    assert all(0 < len(chunk) <= CHUNK for chunk in chunks)


async def test_put_replaces_an_object_under_the_same_key(store):
    await store.ensure()
    await store.put("attachments/a", io.BytesIO(b"first version"), 13, "text/plain")
    await store.put("attachments/a", io.BytesIO(b"second"), 6, "text/plain")
    assert b"".join(await _read(store, "attachments/a")) == b"second"


async def test_exists_tells_stored_from_missing(store):
    await store.ensure()
    await store.put("attachments/here", io.BytesIO(b"%PDF-1.7"), 8, "application/pdf")
    assert await store.exists("attachments/here") is True
    assert await store.exists("attachments/not-here") is False
    assert await store.exists("attachments") is False  # a key prefix is not an object


async def test_delete_removes_the_object_and_is_safe_to_repeat(store):
    await store.ensure()
    await store.put("attachments/gone", io.BytesIO(b"data"), 4, "application/octet-stream")
    await store.put("attachments/kept", io.BytesIO(b"data"), 4, "application/octet-stream")

    await store.delete("attachments/gone")
    await store.delete("attachments/gone")  # cleanup after a failure may run twice

    assert await store.exists("attachments/gone") is False
    assert await store.exists("attachments/kept") is True


class BrokenUpload(io.RawIOBase):
    """A source that fails part-way, as a spool file on a failing disk would."""

    def __init__(self, good: bytes):
        self.good = io.BytesIO(good)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.good.read(len(buffer))
        if not data:
            raise OSError("read failed part-way")
        buffer[: len(data)] = data
        return len(data)


async def test_a_failed_put_leaves_nothing_behind(store, tmp_path):
    await store.ensure()
    with pytest.raises(OSError):
        await store.put("attachments/broken", BrokenUpload(b"x" * 1000), 5000, "application/pdf")
    assert await store.exists("attachments/broken") is False
    if isinstance(store, FolderStore):
        # No half-written temporary file is left to fill the disk.
        assert [p for p in store.root.rglob("*") if p.is_file()] == []
