"""Where the CPU goes: user + system seconds of each process over a phase, read from /proc, so a throughput
figure comes with its cost per letter in each process and in PostgreSQL, RabbitMQ and the bench client."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _seconds(pid: int) -> float:
    """utime + stime of one process (fields 14 and 15 of /proc/<pid>/stat); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _named(*names: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm in names:
                found.append(int(entry.name))
    return found


def _client() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuAccount:
    """`with CpuAccount(pids) as cpu: ...` then `cpu.per_item(n)`. PostgreSQL backends that start during the
    phase are counted from their start; ones that end during it are lost, so the database is a lower bound."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids

    def _snapshot(self) -> dict[str, float]:
        shot = {name: _seconds(pid) for name, pid in self.pids.items()}
        shot["postgres"] = sum(_seconds(pid) for pid in _named("postgres"))
        shot["rabbitmq"] = sum(_seconds(pid) for pid in _named("beam.smp"))
        shot["bench client"] = _client()
        return shot

    def __enter__(self) -> CpuAccount:
        self.started, self.before = time.monotonic(), self._snapshot()
        return self

    def __exit__(self, *_) -> None:
        self.seconds, self.after = time.monotonic() - self.started, self._snapshot()

    def per_item(self, items: int) -> dict:
        used = {name: self.after[name] - self.before.get(name, 0.0) for name in self.after}
        total = sum(used.values())
        return {
            "items": items,
            "wall_seconds": self.seconds,
            "cores": os.cpu_count(),
            "cpu_seconds": used,
            "cpu_ms_per_item": {name: 1000 * value / items for name, value in used.items()} if items else None,
            "total_cpu_ms_per_item": 1000 * total / items if items else None,
            "busy_share_of_all_cores": total / (self.seconds * (os.cpu_count() or 1)),
        }
