"""Item outcomes go to the tracker in batches: many per `ItemOutcomes` message, confirmed.

One message per outcome would cap the system at the broker's per-message rate, so
outcomes wait in a buffer until ~`max_batch` of them are there or the oldest has
waited `linger` seconds, and go out as one message per job. An item that ends while
its `in_progress` outcome is still waiting is coalesced: only the final outcome is
sent, carrying `started_at`, so a fast item costs one outcome, not two. Outcomes are
written as JSON as they enter the buffer; a batch worker's come written already
(`ended_written`), so that its items cost no `ItemOutcome` each.

`ended()` returns a future that resolves once the broker confirmed the message holding
that outcome (`ended_all()`, `ended_written()`: every message holding one of those
outcomes): a chunk is acked only after every one of its outcomes is confirmed, so a
replica that dies never loses an outcome whose item it acked. `started()` is fire and
forget: a lost start is harmless (the final outcome carries `started_at`).
"""

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from jobs_shared.contracts import ItemOutcome, ItemStatus
from jobs_shared.contracts.events import item_outcomes_json, outcome_json
from jobs_shared.worker.base import JobRef

log = logging.getLogger(__name__)

W = TypeVar("W")


@dataclass(slots=True)
class _Entry(Generic[W]):
    """Outcomes added together, as JSON; `start` is set while the entry is an unsent start."""

    job: JobRef
    outcomes: list[bytes]
    added_at: float
    waiters: list[W] = field(default_factory=list)
    start: ItemOutcome | None = None


@dataclass(frozen=True, slots=True)
class OutcomeBatch(Generic[W]):
    """The outcomes of one job taken from the buffer (as JSON): one `ItemOutcomes` message."""

    job: JobRef
    outcomes: list[bytes]
    waiters: list[W]

    def message(self) -> bytes:
        """The `ItemOutcomes` message, as JSON."""
        job = self.job
        return item_outcomes_json(job.job_id, job.tenant, job.job_type, self.outcomes)


class OutcomeBuffer(Generic[W]):
    """Unsent outcomes in arrival order; pure (the publisher supplies times and waiters).

    An entry holds the outcomes added together: one (`add`), or a batch's, already
    written (`add_written`), which costs one entry, not one per item, and is never split.
    """

    def __init__(self) -> None:
        self._entries: deque[_Entry[W]] = deque()
        self._unsent_starts: dict[tuple[str, str], _Entry[W]] = {}
        self._outcomes = 0

    def __len__(self) -> int:
        """The unsent outcomes."""
        return self._outcomes

    @property
    def oldest_added_at(self) -> float | None:
        return self._entries[0].added_at if self._entries else None

    def add(self, job: JobRef, outcome: ItemOutcome, now: float, waiter: W | None = None) -> None:
        key = (job.job_id, outcome.item_id)
        waiters = [] if waiter is None else [waiter]
        if outcome.status != ItemStatus.IN_PROGRESS:
            start = self._unsent_starts.pop(key, None)
            if start is not None and start.start is not None:
                if outcome.started_at is None:
                    outcome = dataclasses.replace(outcome, started_at=start.start.at)
                start.outcomes = [outcome_json(outcome)]
                start.start = None
                start.waiters.extend(waiters)
                return
            self._append(_Entry(job, [outcome_json(outcome)], now, waiters))
            return
        entry = _Entry(job, [outcome_json(outcome)], now, waiters, start=outcome)
        self._append(entry)
        self._unsent_starts[key] = entry

    def add_written(self, job: JobRef, outcomes: list[bytes], now: float, waiter: W) -> None:
        """Final outcomes already written as JSON, of items that reported no start."""
        self._append(_Entry(job, outcomes, now, [waiter]))

    def take(self, limit: int) -> list[OutcomeBatch[W]]:
        """The oldest entries, grouped by job (first-seen order): as many as fit in `limit`
        outcomes, and at least one."""
        batches: dict[str, OutcomeBatch[W]] = {}
        taken = 0
        entries = self._entries
        while entries and (taken == 0 or taken + len(entries[0].outcomes) <= limit):
            entry = entries.popleft()
            taken += len(entry.outcomes)
            if entry.start is not None:
                key = (entry.job.job_id, entry.start.item_id)
                if self._unsent_starts.get(key) is entry:
                    del self._unsent_starts[key]
                entry.start = None
            batch = batches.get(entry.job.job_id)
            if batch is None:
                batch = batches[entry.job.job_id] = OutcomeBatch(entry.job, [], [])
            batch.outcomes.extend(entry.outcomes)
            batch.waiters.extend(entry.waiters)
        self._outcomes -= taken
        return list(batches.values())

    def _append(self, entry: _Entry[W]) -> None:
        self._entries.append(entry)
        self._outcomes += len(entry.outcomes)


Send = Callable[[bytes], Awaitable[None]]
"""Publishes one `ItemOutcomes` message, given as JSON, and returns once it is confirmed."""


class _Confirmation:
    """Resolves its future once each of `count` buffer entries (an outcome, or a part of a
    batch's) was confirmed, or fails it with the first error: one future for a whole
    batch's outcomes, which may leave in several messages (a future per outcome, each
    gathered, cost a batch worker more than building the outcome).
    """

    __slots__ = ("_unconfirmed", "future")

    def __init__(self, future: asyncio.Future[None], count: int) -> None:
        self.future = future
        self._unconfirmed = count

    def confirmed(self) -> None:
        self._unconfirmed -= 1
        if self._unconfirmed == 0 and not self.future.done():
            self.future.set_result(None)

    def failed(self, error: BaseException) -> None:
        if not self.future.done():  # else resolved, or its chunk was cancelled meanwhile
            self.future.set_exception(error)


class OutcomePublisher:
    """Runs the buffer: flushes by size or age, publishes each batch, resolves its waiters."""

    def __init__(self, send: Send, *, max_batch: int, linger: float) -> None:
        if max_batch < 1 or linger < 0:
            raise ValueError("max_batch must be >= 1 and linger >= 0")
        self._send = send
        self._max_batch = max_batch
        self._linger = linger
        self._buffer: OutcomeBuffer[_Confirmation] = OutcomeBuffer()
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._closing = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name="outcomes")

    def started(self, job: JobRef, outcome: ItemOutcome) -> None:
        was_empty = not self._buffer
        self._buffer.add(job, outcome, asyncio.get_running_loop().time())
        self._wake_if_due(was_empty)

    def ended(self, job: JobRef, outcome: ItemOutcome) -> asyncio.Future[None]:
        """Add a final `outcome` (it replaces its item's start, if that is still unsent); the
        future resolves once it is confirmed."""
        return self._added(1, lambda now, waiter: self._buffer.add(job, outcome, now, waiter))

    def ended_all(self, job: JobRef, outcomes: Sequence[ItemOutcome]) -> asyncio.Future[None]:
        """Add final `outcomes` of items that reported no start (skipped, or a batch's)."""
        return self.ended_written(job, [outcome_json(outcome) for outcome in outcomes])

    def ended_written(self, job: JobRef, outcomes: Sequence[bytes]) -> asyncio.Future[None]:
        """Add final outcomes already written as JSON (`outcome_json`, `SucceededOutcomes`),
        of items that reported no start: in entries of at most a message's outcomes, each
        confirmed as one. The future resolves once every one is confirmed."""
        size = self._max_batch
        parts = [list(outcomes[at : at + size]) for at in range(0, len(outcomes), size)]

        def add(now: float, waiter: _Confirmation) -> None:
            for part in parts:
                self._buffer.add_written(job, part, now, waiter)

        return self._added(len(parts), add)

    def _added(
        self, entries: int, add: Callable[[float, _Confirmation], None]
    ) -> asyncio.Future[None]:
        """Run `add`, which puts `entries` buffer entries in (given the time and their
        waiter); the future resolves once every one of them is confirmed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not entries:
            future.set_result(None)
            return future
        was_empty = not self._buffer
        add(loop.time(), _Confirmation(future, entries))
        self._wake_if_due(was_empty)
        return future

    async def close(self) -> None:
        """Send everything still buffered without lingering, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    def _wake_if_due(self, was_empty: bool) -> None:
        """Wake the sender when outcomes arrive in an empty buffer (their linger starts) or
        fill a batch."""
        if (was_empty and self._buffer) or len(self._buffer) >= self._max_batch:
            self._wake.set()

    async def _run(self) -> None:
        while self._buffer or not self._closing:
            oldest = self._buffer.oldest_added_at
            if oldest is None:
                await self._wake.wait()
                self._wake.clear()
                continue
            flush_at = oldest + self._linger
            lingering = len(self._buffer) < self._max_batch and not self._closing
            if lingering and asyncio.get_running_loop().time() < flush_at:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(flush_at):
                        await self._wake.wait()
                self._wake.clear()
                continue
            await self._publish(self._buffer.take(self._max_batch))

    async def _publish(self, batches: list[OutcomeBatch[_Confirmation]]) -> None:
        results = await asyncio.gather(
            *(self._send_one(batch) for batch in batches), return_exceptions=True
        )
        for batch, result in zip(batches, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "could not publish %d outcomes of job %s: %r",
                    len(batch.outcomes),
                    batch.job.job_id,
                    result,
                )
            for waiter in batch.waiters:
                if isinstance(result, BaseException):
                    waiter.failed(result)
                else:
                    waiter.confirmed()

    async def _send_one(self, batch: OutcomeBatch[_Confirmation]) -> None:
        await self._send(batch.message())
