"""HTTP to an ASGI app in the same process, with both bodies streamed.

httpx's own ASGITransport collects the whole response body before answering, so in embedded mode a
download would pass through the gateway held whole in memory. Here the app runs as a task and its body
parts reach the caller through a short queue: memory stays at a few chunks whatever the file's size, as it
does over a real socket in distributed mode.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx

log = logging.getLogger("sarabun.inprocess")

QUEUED_CHUNKS = 4  # how far the app may run ahead of the reader
_END = object()


class StreamingASGITransport(httpx.AsyncBaseTransport):
    def __init__(self, app, client: tuple[str, int] = ("127.0.0.1", 123)):
        self.app = app
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started: asyncio.Future = asyncio.get_running_loop().create_future()
        body: asyncio.Queue = asyncio.Queue(QUEUED_CHUNKS)
        finished = asyncio.Event()
        receive = _receiver(request, finished)

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                started.set_result((message["status"], message.get("headers", [])))
            elif message["type"] == "http.response.body":
                if chunk := message.get("body", b""):
                    await body.put(chunk)

        async def run() -> None:
            try:
                await self.app(self._scope(request), receive, send)
            except Exception as exc:  # noqa: BLE001 - before the answer it is the caller's; after, logged
                if not started.done():
                    started.set_exception(exc)
                else:
                    log.exception("in-process app failed after answering %s %s", request.method, request.url.path)
            finally:
                finished.set()
                if not started.done():
                    started.set_exception(RuntimeError("the app returned without answering"))
                await body.put(_END)

        task = asyncio.create_task(run())
        try:
            status, headers = await started
        except BaseException:
            task.cancel()
            raise
        return httpx.Response(status, headers=headers, stream=_ResponseBody(body, task))

    def _scope(self, request: httpx.Request) -> dict:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }


def _receiver(request: httpx.Request, finished: asyncio.Event):
    """The app's `receive`: the request body chunk by chunk, then a disconnect once the app is done."""
    chunks = request.stream.__aiter__()
    complete = False

    async def receive() -> dict:
        nonlocal complete
        if complete:
            await finished.wait()
            return {"type": "http.disconnect"}
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            complete = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    return receive


class _ResponseBody(httpx.AsyncByteStream):
    def __init__(self, queue: asyncio.Queue, task: asyncio.Task):
        self.queue, self.task = queue, task

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self.queue.get()) is not _END:
            yield chunk

    async def aclose(self) -> None:
        # A reader that stops early (a client gone mid-download) must not leave the app blocked on the queue.
        if not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
