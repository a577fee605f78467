"""What both bus adapters share about batches: how a batch is gathered and how a failing one is split."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shared.bus import BatchHandler, Batching
from shared.contracts import Envelope

log = logging.getLogger("sarabun.bus")

T = TypeVar("T")


async def take_batch(source: asyncio.Queue[T], batching: Batching) -> list[T]:
    """Waits for one item, then takes more until the batch is full or `max_wait_seconds` have passed."""
    items = [await source.get()]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + batching.max_wait_seconds
    while len(items) < batching.max_messages:
        if not source.empty():
            items.append(source.get_nowait())
            continue
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            async with asyncio.timeout(remaining):
                items.append(await source.get())
        except TimeoutError:
            break
    return items


Failed = Callable[[T, Exception], Awaitable[None]]


async def handle_batch(queue: str, handler: BatchHandler, batch: list[tuple[Envelope, T]], failed: Failed) -> None:
    """Runs the handler on the whole batch; if it raises, on each message alone, and hands `failed` only the
    messages that fail by themselves, so one poison message never holds back its neighbours."""
    try:
        await handler([envelope for envelope, _ in batch])
        return
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - retried below, message by message
        if len(batch) == 1:
            await failed(batch[0][1], exc)
            return
        log.info("a batch of %d on %s failed (%s); handling each message alone", len(batch), queue, exc)
    for envelope, token in batch:
        try:
            await handler([envelope])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the adapter retries or dead-letters this one
            await failed(token, exc)
