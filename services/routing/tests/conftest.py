"""Routing built from its bootstrap on a SQLite file with the memory bus, for the use-case tests."""

import pytest

from services.routing.bootstrap import build
from shared.bus.memory import MemoryBus
from shared.settings import Settings


@pytest.fixture
async def routing(tmp_path):
    bus = MemoryBus(retry_seconds=0.05)
    runtime = build(Settings(demo=True, data_dir=tmp_path), bus)
    await runtime.start()
    yield runtime, bus
    await runtime.stop()
    await bus.close()
