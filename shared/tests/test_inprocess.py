"""The in-process transport streams: the caller holds a chunk before the app has produced the next one."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from shared.inprocess import StreamingASGITransport


def streaming_app(gate: asyncio.Event, produced: list[int]):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for n in range(3):
            if n == 2:
                await gate.wait()  # the last chunk only once the caller has read the first
            produced.append(n)
            await send({"type": "http.response.body", "body": f"part{n};".encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


async def test_the_response_reaches_the_caller_chunk_by_chunk():
    gate, produced = asyncio.Event(), []
    async with httpx.AsyncClient(
        transport=StreamingASGITransport(streaming_app(gate, produced)), base_url="http://t"
    ) as c:
        # A buffering transport never answers (the app waits for the caller): fail instead of hanging.
        async with asyncio.timeout(10), c.stream("GET", "/") as response:
            chunks = response.aiter_bytes()
            assert await anext(chunks) == b"part0;"
            assert 2 not in produced  # a buffering transport would never get here: the app waits on the caller
            gate.set()
            rest = b"".join([chunk async for chunk in chunks])
    assert rest == b"part1;part2;"


async def test_a_reader_that_stops_early_ends_the_app():
    gate, produced = asyncio.Event(), []
    transport = StreamingASGITransport(streaming_app(gate, produced))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        async with asyncio.timeout(10), c.stream("GET", "/") as response:
            assert await anext(response.aiter_bytes()) == b"part0;"
    assert 2 not in produced  # closed before the gate opened: the app was cancelled, not left waiting


async def test_the_request_body_arrives_in_pieces_and_errors_before_answering_reach_the_caller():
    seen: list[bytes] = []

    async def echo(scope, receive, send):
        if scope["path"] == "/boom":
            raise ValueError("failed before answering")
        while (message := await receive())["more_body"]:
            seen.append(message["body"])
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"ok", "more_body": False})

    async def pieces():
        for piece in (b"a" * 10, b"b" * 10):
            yield piece

    async with httpx.AsyncClient(transport=StreamingASGITransport(echo), base_url="http://t") as c:
        response = await c.post("/", content=pieces())
        assert (response.status_code, response.content, seen) == (201, b"ok", [b"a" * 10, b"b" * 10])
        with pytest.raises(ValueError):
            await c.post("/boom")
