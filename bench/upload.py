"""A large upload through the gateway to the storage service and on to the object store, against a raw write
of the same size to the same disk, with the peak memory of the processes the bytes pass through."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import httpx

MiB = 1024 * 1024
CHUNK = MiB
# A file's type is proved by its first bytes (TIFF, as a scanner writes it); the rest is incompressible noise.
TIFF_MAGIC = b"II*\x00"


def disk_write(folder: Path, size: int) -> dict:
    """Writes `size` bytes in 1 MiB pieces and fsyncs: what the disk itself takes, page cache included."""
    path = folder / f"disk-probe-{uuid.uuid4().hex[:8]}"
    block = os.urandom(CHUNK)
    started = time.monotonic()
    try:
        with open(path, "wb") as file:
            for _ in range(size // CHUNK):
                file.write(block)
            file.flush()
            os.fsync(file.fileno())
        seconds = time.monotonic() - started
    finally:
        path.unlink(missing_ok=True)
    return {"bytes": size, "seconds": seconds, "mib_per_s": size / MiB / seconds, "fsync": True}


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def reset_peak(pid: int) -> bool:
    """Sets the process's VmHWM back to its current RSS (Linux clear_refs 5), so the peak read afterwards
    belongs to what happens from now on; False where the kernel does not allow it."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Peak resident memory of some processes during a phase: VmHWM (the kernel's own peak) at the end, and
    VmRSS sampled meanwhile as a check where the peak could not be reset."""

    def __init__(self, pids: dict[str, int], every: float = 0.05):
        self.pids = pids
        self.every = every
        self.before = {name: _status_kib(pid, "VmHWM") for name, pid in pids.items()}
        # Memory a process already holds (kept from earlier phases) is not the upload's: its growth is.
        self.at_start = {name: _status_kib(pid, "VmRSS") for name, pid in pids.items()}
        self.reset = {name: reset_peak(pid) for name, pid in pids.items()}
        self.sampled = dict.fromkeys(pids, 0)
        self._task: asyncio.Task | None = None

    async def _sample(self) -> None:
        while True:
            for name, pid in self.pids.items():
                self.sampled[name] = max(self.sampled[name], _status_kib(pid, "VmRSS") or 0)
            await asyncio.sleep(self.every)

    def __enter__(self) -> PeakMemory:
        self._task = asyncio.create_task(self._sample())
        return self

    def __exit__(self, *_) -> None:
        if self._task:
            self._task.cancel()

    def result(self) -> dict:
        out = {}
        for name, pid in self.pids.items():
            hwm = _status_kib(pid, "VmHWM")
            out[name] = {
                "peak_rss_mib": (hwm if self.reset[name] else self.sampled[name]) / 1024 if hwm else None,
                "sampled_max_rss_mib": self.sampled[name] / 1024,
                "hwm_before_phase_mib": self.before[name] / 1024 if self.before[name] else None,
                "rss_at_start_mib": self.at_start[name] / 1024 if self.at_start[name] else None,
                "growth_mib": (hwm - self.at_start[name]) / 1024 if hwm and self.at_start[name] else None,
                "peak_reset": self.reset[name],
            }
        return out


def multipart(size: int, boundary: str) -> tuple[list[bytes], bytes, int]:
    """Framing around one `file` part of `size` bytes: (head, tail, total length)."""
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="scan.tif"\r\n'
        "Content-Type: image/tiff\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return [head], tail, len(head) + size + len(tail)


async def upload(api: httpx.AsyncClient, headers: dict, size: int) -> dict:
    """POSTs one file of `size` bytes as multipart/form-data, streamed from a generator (the client never
    holds it), and times it until the gateway answers 201."""
    boundary = uuid.uuid4().hex
    (head,), tail, total = multipart(size, boundary)
    block = TIFF_MAGIC + os.urandom(CHUNK - len(TIFF_MAGIC))
    noise = os.urandom(CHUNK)

    async def body():
        yield head
        yield block
        for _ in range(size // CHUNK - 1):
            yield noise
        yield tail

    request_headers = {
        **headers,
        "content-type": f"multipart/form-data; boundary={boundary}",
        "content-length": str(total),
    }
    started = time.monotonic()
    response = await api.post("/api/v1/attachments", headers=request_headers, content=body(), timeout=1800)
    seconds = time.monotonic() - started
    if response.status_code != 201:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:300]}")
    stored = response.json()
    if stored["size"] != size:
        raise RuntimeError(f"stored {stored['size']} bytes of {size}")
    return {
        "bytes": size,
        "seconds": seconds,
        "mib_per_s": size / MiB / seconds,
        "attachment_id": stored["id"],
        "content_type": stored["content_type"],
    }
