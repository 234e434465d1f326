"""Which jobs are cancelled, as far as this replica knows: so that no item starts after a cancel.

Two sources, because either alone misses cases:

- The cancel command itself (`<type>.cancel` on `jobs.commands`): every replica binds an
  exclusive, auto-delete queue of its own to it, so each hears every cancel within
  milliseconds and stops starting that job's items.
- The store, read at the start of every chunk and before item starts (below): a
  replica that started after the cancel was sent (or whose queue was gone for a
  moment) never heard it, but the tracker has folded it into the job by then.

Hearing the command is fast but not a promise: a busy replica may read it a moment
after the gateway answered the cancel. The promise comes from the store, as a fence:
a replica starts an item only while its latest store read of the job, begun at most
`CANCEL_FENCE_SECONDS` before the start, said "not cancelled" (`start_time`); the
gateway answers a cancel `CANCEL_FENCE_SECONDS` after the store showed it. So a read
begun after the cancel was stored sees it, and no item starts after the answer. One
read per job and replica every half fence keeps the fence fresh while items start,
and a replica that cannot read the store starts nothing, since it cannot know.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from faststream import AckPolicy
from faststream.rabbit import RabbitBroker, RabbitQueue
from pydantic import ValidationError

from jobs_shared.contracts import CancelJob, JobStatus, JobType, utc_now
from jobs_shared.contracts.commands import CANCEL_FENCE_SECONDS
from jobs_shared.contracts.routing import cancel_key
from jobs_shared.dead_letters import explain
from jobs_shared.store import JobStore
from jobs_shared.topology import COMMANDS
from jobs_shared.worker.amqp import raw_body
from jobs_shared.worker.base import JobRef

log = logging.getLogger(__name__)

V = TypeVar("V")

REMEMBERED_JOBS = 10_000
"""Cancelled ids (and fences) kept in memory; an older one forgotten is found in the store."""
STORE_RETRY_SECONDS = 0.2
"""Pause between store reads while the store fails, so waiting items do not hammer it."""


class Cancellations:
    def __init__(
        self,
        store: JobStore,
        remember: int = REMEMBERED_JOBS,
        fence: float = CANCEL_FENCE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._remember = remember
        self._fence = fence
        self._clock = clock
        # Both insertion-ordered, so the oldest entry is forgotten first.
        self._cancelled: dict[str, None] = {}
        self._not_cancelled_at: dict[str, float] = {}
        """Job id -> when the latest store read that found it not cancelled began."""
        self._reads: dict[str, asyncio.Task[None]] = {}

    def is_cancelled(self, job_id: str) -> bool:
        return job_id in self._cancelled

    def add(self, job_id: str) -> None:
        self._not_cancelled_at.pop(job_id, None)
        _remember(self._cancelled, job_id, None, self._remember)

    async def check_store(self, tenant: str, job_id: str) -> bool:
        """Learn from the store whether the job is cancelled; a store error is not a cancel."""
        return await self._consult(tenant, job_id) is True

    async def start_time(self, job: JobRef) -> datetime | None:
        """The start time of an item of `job` starting right now; None if the job is cancelled.

        Waits for a store read while the fence is stale. The caller must start the item
        before its next await: the time is taken inside the fence, so the start comes no
        later than `fence` after the read that cleared it began.
        """
        while not self.is_cancelled(job.job_id):
            cleared = self._not_cancelled_at.get(job.job_id)
            if cleared is not None:
                if self._clock() - cleared > self._fence / 2:
                    self._read(job)  # renew ahead of need, so that items do not wait for it
                started_at = utc_now()
                if self._clock() - cleared <= self._fence:
                    return started_at
            await asyncio.shield(self._read(job))
        return None

    async def _consult(self, tenant: str, job_id: str) -> bool | None:
        """Whether the store says the job is cancelled; None if it could not say."""
        if self.is_cancelled(job_id):
            return True
        began = self._clock()
        try:
            job = await self._store.get_job(tenant, job_id)
        except Exception as error:
            log.warning("could not check job %s in the store: %r", job_id, error)
            return None
        if job is not None and job.status == JobStatus.CANCELLED:
            self.add(job_id)
            return True
        if began >= self._not_cancelled_at.get(job_id, began):  # reads may end out of order
            _remember(self._not_cancelled_at, job_id, began, self._remember)
        return False

    def _read(self, job: JobRef) -> asyncio.Task[None]:
        """The job's store read in flight, started if none is: one per job, however many wait."""
        task = self._reads.get(job.job_id)
        if task is None or task.done():
            task = asyncio.create_task(self._read_once(job), name=f"cancel-check-{job.job_id}")
            self._reads[job.job_id] = task
        return task

    async def _read_once(self, job: JobRef) -> None:
        try:
            if await self._consult(job.tenant, job.job_id) is None:
                await asyncio.sleep(STORE_RETRY_SECONDS)  # the waiters try again after a pause
        finally:
            self._reads.pop(job.job_id, None)


def _remember(entries: dict[str, V], key: str, value: V, limit: int) -> None:
    """Set `key` as the newest of `entries`; forget the oldest beyond `limit`."""
    entries.pop(key, None)
    entries[key] = value
    if len(entries) > limit:
        del entries[next(iter(entries))]


def subscribe_cancels(
    broker: RabbitBroker, job_type: JobType, queue_name: str, cancellations: Cancellations
) -> None:
    """Hear every cancel of `job_type` on a queue of this replica's own (`queue_name`)."""

    @broker.subscriber(
        RabbitQueue(queue_name, exclusive=True, auto_delete=True, routing_key=cancel_key(job_type)),
        COMMANDS,
        ack_policy=AckPolicy.ACK,
        decoder=raw_body,
        title=queue_name,
        description=f"Cancels of {job_type.value} jobs: no item of theirs starts afterwards.",
    )
    async def on_cancel(body: bytes) -> None:
        try:
            cancel = CancelJob.model_validate_json(body)
        except ValidationError as error:
            # The tracker's inbox gets the same message and dead-letters it with the reason.
            log.warning("ignoring an undecodable cancel: %s", explain(error))
            return
        log.info("job %s was cancelled by %s", cancel.job_id, cancel.requested_by)
        cancellations.add(cancel.job_id)
