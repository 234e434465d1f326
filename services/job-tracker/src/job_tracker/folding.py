"""Committing one batch: load what it touches, fold, save once, announce.

The store sees one `load_jobs`, one `load_items` and one `save_fold` per batch, however
many events the batch holds, so store writes grow with the batch rate, not the event
rate. The fold itself is pure (`jobs_shared.domain.fold`), and exact under redelivery,
so a batch that is committed twice (the tracker died before acking) changes nothing.

A batch that fails is retried message by message, so that one poison message (one
that breaks the fold or the save) goes to the dead-letter queue with its reason and
the others are committed. A failure that is not the message's fault (the store or the
broker is down) raises instead: the batch is nacked and redelivered, after a backoff.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from aio_pika.abc import AbstractIncomingMessage

from jobs_shared.contracts import TrackerMessage, utc_now
from jobs_shared.dead_letters import explain
from jobs_shared.domain.fold import FoldResult, fold_batch, keys_to_load
from jobs_shared.store import JobStore

log = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 10.0
"""Bounds the wait before a failed batch is nacked: long enough not to spin through the
queue's delivery limit while the store restarts, short enough for a graceful shutdown."""

DeadLetter = Callable[[AbstractIncomingMessage, str], Awaitable[None]]
Announce = Callable[[FoldResult, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A decoded inbox message, with the AMQP delivery it came in (to dead-letter it)."""

    message: TrackerMessage
    raw: AbstractIncomingMessage


class StoreUnavailableError(RuntimeError):
    """The store does not answer: a failed message is not to blame, so it is not dead-lettered."""


class InboxFolder:
    def __init__(self, store: JobStore, announce: Announce, dead_letter: DeadLetter) -> None:
        self._store = store
        self._announce = announce
        self._dead_letter = dead_letter
        self._failures = 0

    async def commit(self, batch: Sequence[Delivery]) -> None:
        """Commit `batch`, dead-lettering poison messages; raise (after a backoff) to nack it."""
        try:
            await self._commit(batch)
        except Exception:
            self._failures += 1
            delay = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (self._failures - 1))
            log.exception(
                "a batch of %d messages was not committed; nacking it in %.1f s", len(batch), delay
            )
            await asyncio.sleep(delay)
            raise
        self._failures = 0

    async def _commit(self, batch: Sequence[Delivery]) -> None:
        try:
            await self._fold([delivery.message for delivery in batch])
        except Exception as error:
            if len(batch) == 1:
                await self._poisoned(batch[0], error)
                return
            log.warning(
                "a batch of %d messages failed (%s); retrying them one by one",
                len(batch),
                explain(error),
            )
            for delivery in batch:
                try:
                    await self._fold([delivery.message])
                except Exception as single_error:
                    await self._poisoned(delivery, single_error)

    async def _fold(self, messages: Sequence[TrackerMessage]) -> None:
        now = utc_now()
        job_ids, item_keys = keys_to_load(messages)
        jobs = await self._store.load_jobs(job_ids)
        items = await self._store.load_items(item_keys) if item_keys else {}
        result = fold_batch(messages, jobs, items, now)
        await self._store.save_fold(list(result.jobs.values()), list(result.items.values()))
        await self._announce(result, now)
        log.debug(
            "committed %d messages: %d jobs, %d items changed, %d dispatched",
            len(messages),
            len(result.jobs),
            len(result.items),
            len(result.dispatch),
        )

    async def _poisoned(self, delivery: Delivery, error: Exception) -> None:
        try:
            await self._store.ping()
        except Exception as ping_error:
            raise StoreUnavailableError(f"the store does not answer: {ping_error}") from error
        reason = f"cannot fold: {explain(error)}"
        log.error(
            "dead-lettering message %s (%s): %s",
            delivery.raw.message_id,
            delivery.raw.routing_key,
            reason,
            exc_info=error,
        )
        await self._dead_letter(delivery.raw, reason)
