"""Micro-batching for concurrent per-message handlers.

aiormq runs every delivery in its own task, and FastStream acks a message when its
handler returns. So each handler hands its message to the `Batcher` and waits: the
batcher commits the messages of many handlers at once (one store round trip for
hundreds of messages) and then releases them all, and only then does FastStream ack.
A message is therefore never acked before its batch is committed.

A batch closes when it reaches `max_size` or when its first message has waited
`linger` seconds, whichever comes first. Batches are committed one at a time, in
order: folding needs the previous batch's writes, and the next batch fills meanwhile.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class BatcherClosedError(RuntimeError):
    """The batcher is shutting down and takes no more messages (they get redelivered)."""


class Batcher(Generic[T]):
    def __init__(
        self,
        commit: Callable[[Sequence[T]], Awaitable[None]],
        *,
        max_size: int,
        linger: float,
    ) -> None:
        if max_size < 1 or linger < 0:
            raise ValueError("max_size must be >= 1 and linger >= 0")
        self._commit = commit
        self._max_size = max_size
        self._linger = linger
        self._pending: list[_Waiting[T]] = []
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start committing batches (async so that it runs on the loop it will serve)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def submit(self, item: T) -> None:
        """Add `item` to the next batch; return once that batch is committed, or raise its error."""
        if self._closing or self._task is None:
            raise BatcherClosedError("the batcher is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append(_Waiting(item, future, loop.time()))
        self._arrived.set()
        if len(self._pending) >= self._max_size:
            self._full.set()
        await future

    async def close(self) -> None:
        """Commit what is pending without lingering, then stop. New submits are refused."""
        self._closing = True
        self._arrived.set()
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            if not self._pending and self._closing:
                return
            deadline = self._pending[0].arrived_at + self._linger if self._pending else 0.0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    await self._full.wait()
            batch = self._take()
            if batch:
                await self._commit_batch(batch)

    def _take(self) -> list["_Waiting[T]"]:
        batch = self._pending[: self._max_size]
        del self._pending[: self._max_size]
        if not self._pending and not self._closing:
            self._arrived.clear()
        if len(self._pending) < self._max_size and not self._closing:
            self._full.clear()
        return batch

    async def _commit_batch(self, batch: list["_Waiting[T]"]) -> None:
        try:
            await self._commit([waiting.item for waiting in batch])
        except Exception as error:
            for waiting in batch:
                if not waiting.future.done():  # its handler may have been cancelled
                    waiting.future.set_exception(error)
        else:
            for waiting in batch:
                if not waiting.future.done():
                    waiting.future.set_result(None)


@dataclass(slots=True)
class _Waiting(Generic[T]):
    item: T
    future: asyncio.Future[None]
    arrived_at: float
