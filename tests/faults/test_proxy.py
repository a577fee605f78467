"""The fault proxy itself: it forwards, cuts, stalls and restores, or the fault tests would prove nothing."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.faults.proxy import FaultProxy


@pytest.fixture
async def echo():
    handlers = []

    async def handle(reader, writer):
        handlers.append(asyncio.current_task())
        with contextlib.suppress(OSError):
            while data := await reader.read(1024):
                writer.write(data)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    proxy = FaultProxy("127.0.0.1", server.sockets[0].getsockname()[1]).start()
    yield proxy
    proxy.close()  # resets the proxy's upstream connections, so every echo handler ends by itself
    server.close()
    if handlers:
        await asyncio.wait(handlers, timeout=5)


async def roundtrip(reader, writer, data: bytes, within: float = 5.0) -> bytes:
    writer.write(data)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(data)), within)


async def test_forwards_both_ways(echo):
    reader, writer = await asyncio.open_connection("127.0.0.1", echo.port)
    assert await roundtrip(reader, writer, b"sarabun") == b"sarabun"
    writer.close()


async def test_cut_resets_open_connections_and_refuses_new_ones_until_restored(echo):
    reader, writer = await asyncio.open_connection("127.0.0.1", echo.port)
    await roundtrip(reader, writer, b"before")
    echo.cut()
    assert await asyncio.wait_for(reader.read(10), 5) == b""  # the open connection ended
    reader, writer = await asyncio.open_connection("127.0.0.1", echo.port)
    assert await asyncio.wait_for(reader.read(10), 5) == b""  # a new one is closed at once
    echo.restore()
    reader, writer = await asyncio.open_connection("127.0.0.1", echo.port)
    assert await roundtrip(reader, writer, b"after") == b"after"
    writer.close()


async def test_stall_holds_bytes_until_restored(echo):
    reader, writer = await asyncio.open_connection("127.0.0.1", echo.port)
    await roundtrip(reader, writer, b"open")
    echo.stall()
    writer.write(b"held")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readexactly(4), 1.0)  # nothing may pass while stalled
    assert echo.held == 4
    echo.restore()
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"held"
    writer.close()


async def test_a_connection_opened_while_stalled_hears_nothing_until_restored(echo):
    echo.stall()
    reader, writer = await asyncio.open_connection("127.0.0.1", echo.port)
    writer.write(b"late")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readexactly(4), 1.0)
    echo.restore()
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"late"
    writer.close()
