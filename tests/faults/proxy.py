"""A TCP fault proxy: forwards connections to one server and, on command, cuts them all, stalls them (stops
forwarding in both directions, as a partition without a reset does) or restores forwarding.

It runs its own event loop in a thread, so a test that blocks (a subprocess wait, a sync HTTP call) never
stalls the traffic it does not mean to stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

CHUNK = 64 * 1024


class FaultProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"fault-proxy-{self.port}", daemon=True)
        self._flowing: asyncio.Event | None = None
        self._refusing = False
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.base_events.Server | None = None
        self.held = 0  # bytes read while stalled and not forwarded yet

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def close(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def cut(self, refuse: bool = True) -> None:
        """Resets every open connection; with `refuse`, new ones are closed at once until `restore`."""
        self._call(self._cut(refuse))

    def stall(self) -> None:
        """Stops forwarding bytes; connections stay open and new ones are accepted but hear nothing."""
        self._call(self._set_flowing(False))

    def restore(self) -> None:
        self._call(self._restore())

    @property
    def connections(self) -> int:
        return len(self._links)

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _listen(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _close(self) -> None:
        await self._cut(refuse=True)
        if self._server:
            self._server.close()
        self._flowing.set()  # lets held pumps see their closed sockets and end by themselves
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if others:
            _, left = await asyncio.wait(others, timeout=5)
            for task in left:  # cancelled only as a last resort: asyncio logs a cancelled connection handler
                task.cancel()

    async def _set_flowing(self, flowing: bool) -> None:
        self.held = 0
        (self._flowing.set if flowing else self._flowing.clear)()

    async def _restore(self) -> None:
        self._refusing = False
        self.held = 0
        self._flowing.set()

    async def _cut(self, refuse: bool) -> None:
        self._refusing = refuse
        for client, upstream in list(self._links):
            _abort(client)
            _abort(upstream)
        self._links.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        if self._refusing:
            _abort(client)
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            _abort(client)
            return
        link = (client, upstream)
        self._links.add(link)
        try:
            await asyncio.gather(self._pump(client_reader, upstream), self._pump(upstream_reader, client))
        finally:
            self._links.discard(link)
            _abort(client)
            _abort(upstream)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                if not self._flowing.is_set():
                    self.held += len(data)
                await self._flowing.wait()  # a stall holds what was read; TCP backpressure holds the rest
                if writer.is_closing():
                    return
                writer.write(data)
                await writer.drain()
        # One side closed: close the other, as the network would carry the FIN.
        with contextlib.suppress(OSError):
            if not writer.is_closing():
                writer.write_eof()


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
