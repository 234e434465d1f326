"""Processing one chunk: its items run concurrently, each reported, none started after a cancel.

Every item of the chunk gets a task, and waits for one of the replica's
`concurrency` slots (shared by all its chunks, so a chunk that thins out leaves room
for the next one). With a slot, it asks the cancel fence for its start time
(`Cancellations.start_time`); then, in one step (no await between): if the job is
cancelled, the item is `skipped`; else it is reported `in_progress` and run (time
limit, retries). Items of a job known to be cancelled skip without waiting. Items
that had not started when a stop began, or had not finished when its grace ran out,
are handed back to the caller, which republishes them for another replica.

An item's attempt number counts every delivery of it: the chunk's earlier deliveries
(quorum queues count them in `x-delivery-count`; a hand-back carries them on) plus the
retries in this one. A redelivered item therefore reports a higher attempt, and the
tracker's fold keeps the latest word on it.
"""

import asyncio
import logging
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jobs_shared.contracts import ItemOutcome, ItemStatus, WorkChunk, WorkItem, utc_now
from jobs_shared.contracts.events import (
    ItemError,
    ReportedItemStatus,
    SucceededOutcomes,
    outcome_json,
)
from jobs_shared.contracts.writing import message_json
from jobs_shared.worker.base import BatchResult, BatchWorker, ItemContext, JobRef, Worker
from jobs_shared.worker.cancellation import Cancellations
from jobs_shared.worker.drain import Drain
from jobs_shared.worker.errors import Failure, classify
from jobs_shared.worker.heartbeat import Activity
from jobs_shared.worker.outcomes import OutcomePublisher
from jobs_shared.worker.retry import Attempted, RetryPolicy, attempt

log = logging.getLogger(__name__)

MAX_RESULT_BYTES = 16_384
"""An item's result is a summary for the Items page; a bigger one is dropped (and logged)."""
_NO_RESULT = b"null"

Confirmed = asyncio.Future[None]


class ChunkRunner:
    def __init__(
        self,
        worker: Worker,
        outcomes: OutcomePublisher,
        cancellations: Cancellations,
        activity: Activity,
        drain: Drain,
        *,
        concurrency: int,
        item_timeout: float,
        retry_policy: RetryPolicy,
    ) -> None:
        self._worker = worker
        self._outcomes = outcomes
        self._cancellations = cancellations
        self._activity = activity
        self._drain = drain
        self._slots = asyncio.Semaphore(concurrency)
        self._item_timeout = item_timeout
        self._retry_policy = retry_policy
        self._rng = random.Random()

    async def run(self, chunk: WorkChunk, deliveries: int) -> list[WorkItem]:
        """Process `chunk` (delivered `deliveries` times before); return the items to hand back.

        Returns once every outcome it reported is confirmed by the broker; raises if one
        could not be published (the caller nacks the chunk, and it runs again).
        """
        job = JobRef.of(chunk)
        await self._cancellations.check_store(job.tenant, job.job_id)
        first_attempt = chunk.previous_deliveries + deliveries + 1
        worker = self._worker
        runs: dict[asyncio.Task[list[Confirmed] | None], Sequence[WorkItem]] = (
            {
                asyncio.create_task(
                    self._run_batch(worker, job, chunk.items, first_attempt)
                ): chunk.items
            }
            if isinstance(worker, BatchWorker)
            else {
                asyncio.create_task(self._run_item(job, item, first_attempt)): [item]
                for item in chunk.items
            }
        )
        unfinished = await self._drain.settle(runs)
        confirmations: list[Confirmed] = []
        handback: list[WorkItem] = []
        for task, items in runs.items():
            confirmed = None if task in unfinished else task.result()
            if confirmed is None:
                handback.extend(items)
            else:
                confirmations.extend(confirmed)
        results = await asyncio.gather(*confirmations, return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            raise errors[0]
        return handback

    async def _run_item(
        self, job: JobRef, item: WorkItem, first_attempt: int
    ) -> list[Confirmed] | None:
        """Run `item`; its final outcome's confirmation, or None if it did not start."""
        if self._cancellations.is_cancelled(job.job_id):  # skipping needs no slot
            return [self._skip_all(job, [item], first_attempt)]
        async with self._slots:
            started_at = await self._cancellations.start_time(job)
            if self._drain.begun:
                return None
            if started_at is None:  # cancelled while it waited
                return [self._skip_all(job, [item], first_attempt)]
            self._outcomes.started(
                job, _outcome(item, ItemStatus.IN_PROGRESS, first_attempt, started_at)
            )
            with self._activity.item(job.job_id):
                attempted = await attempt(
                    lambda number: self._worker.process(
                        item, ItemContext(job, first_attempt + number - 1)
                    ),
                    policy=self._retry_policy,
                    time_limit=self._item_timeout,
                    give_up=lambda: self._cancellations.is_cancelled(job.job_id),
                    rng=self._rng,
                )
            ending = _ending(item, attempted, first_attempt, started_at, utc_now())
            return [self._outcomes.ended(job, ending)]

    async def _run_batch(
        self, worker: BatchWorker, job: JobRef, items: Sequence[WorkItem], first_attempt: int
    ) -> list[Confirmed] | None:
        """Run a chunk's `items` in one `process_batch` (see `BatchWorker`); their final
        outcomes' confirmations, or None if they did not start. A batch takes one of the
        replica's slots: it is one unit of work, however many items it holds."""
        if self._cancellations.is_cancelled(job.job_id):
            return [self._skip_all(job, items, first_attempt)]
        async with self._slots:
            started_at = await self._cancellations.start_time(job)
            if self._drain.begun:
                return None
            if started_at is None:
                return [self._skip_all(job, items, first_attempt)]
            ends: list[BatchResult] = []

            async def call(number: int) -> None:
                context = ItemContext(job, first_attempt + number - 1)
                ends[:] = await worker.process_batch(items, context)
                if len(ends) != len(items):
                    raise RuntimeError(f"process_batch returned {len(ends)} of {len(items)}")

            with self._activity.item(job.job_id, len(items)):
                attempted = await attempt(
                    call,
                    policy=self._retry_policy,
                    time_limit=self._item_timeout,
                    give_up=lambda: self._cancellations.is_cancelled(job.job_id),
                    rng=self._rng,
                )
        ended_at = utc_now()
        if attempted.failure is not None:  # the batch failed as a whole
            failed = [
                _ending(item, attempted, first_attempt, started_at, ended_at) for item in items
            ]
            return [self._outcomes.ended_all(job, failed)]
        number = first_attempt + attempted.attempts - 1
        succeeded = SucceededOutcomes(attempt=number, at=ended_at, started_at=started_at)
        written = [
            outcome_json(_final_outcome(item, number, started_at, ended_at, None, classify(end)))
            if isinstance(end, Exception)
            else succeeded.outcome_json(item.item_id, item.label, _result_json(item, end))
            for item, end in zip(items, ends, strict=True)
        ]
        return [self._outcomes.ended_written(job, written)]

    def _skip_all(self, job: JobRef, items: Sequence[WorkItem], attempt_number: int) -> Confirmed:
        at = utc_now()
        skipped = [_outcome(item, ItemStatus.SKIPPED, attempt_number, at) for item in items]
        return self._outcomes.ended_all(job, skipped)


def _ending(
    item: WorkItem, attempted: Attempted, first_attempt: int, started_at: datetime, at: datetime
) -> ItemOutcome:
    number = first_attempt + attempted.attempts - 1
    return _final_outcome(item, number, started_at, at, attempted.result, attempted.failure)


def _final_outcome(
    item: WorkItem,
    number: int,
    started_at: datetime,
    at: datetime,
    result: dict[str, Any] | None,
    failure: Failure | None,
) -> ItemOutcome:
    if failure is None:
        return _outcome(
            item,
            ItemStatus.SUCCEEDED,
            number,
            at,
            started_at=started_at,
            result=_reportable(item, result),
        )
    return _outcome(
        item,
        ItemStatus.FAILED,
        number,
        at,
        started_at=started_at,
        error=ItemError(category=failure.category, message=failure.message),
    )


def _outcome(
    item: WorkItem,
    status: ReportedItemStatus,
    number: int,
    at: datetime,
    *,
    started_at: datetime | None = None,
    result: dict[str, Any] | None = None,
    error: ItemError | None = None,
) -> ItemOutcome:
    return ItemOutcome(
        item_id=item.item_id,
        label=item.label,
        status=status,
        attempt=number,
        at=at,
        started_at=started_at,
        result=result,
        error=error,
    )


def _reportable(item: WorkItem, result: dict[str, Any] | None) -> dict[str, Any] | None:
    """`result` if it fits in an outcome; else None: the item still succeeded."""
    return None if _result_json(item, result) == _NO_RESULT else result


def _result_json(item: WorkItem, result: dict[str, Any] | None) -> bytes:
    """`result` as JSON if it fits in an outcome; else `_NO_RESULT` (and a log line saying
    why): the item still succeeded."""
    if result is None:
        return _NO_RESULT
    if not isinstance(result, dict):
        log.warning("item %s: its result is not a dict; dropping it", item.item_id)
        return _NO_RESULT
    try:
        written = message_json(result)
    except TypeError as error:  # orjson's error, raised for what neither it nor pydantic writes
        log.warning("item %s: its result is not JSON (%s); dropping it", item.item_id, error)
        return _NO_RESULT
    if len(written) > MAX_RESULT_BYTES:
        log.warning("item %s: its result has %d bytes; dropping it", item.item_id, len(written))
        return _NO_RESULT
    return written
