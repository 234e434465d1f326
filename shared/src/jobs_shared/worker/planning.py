"""Planning a job: its `RunJob` in, its items out as chunks on `<service>.items`, totals reported.

The order of messages is what makes a crash anywhere safe:

1. `JobStarted` (total so far, not final) before the first chunk, so the job shows as
   started before any of its outcomes; `JobTotalGrew` (not final) at most every
   `TOTAL_REPORT_SECONDS` while chunks go out.
2. The chunks, each confirmed by the broker.
3. The final total (`JobTotalGrew`, or `JobStarted` when there were no items) only
   after every chunk is confirmed.

So a job whose total the store shows as final was planned completely, and a
redelivered `RunJob` for it is acked and ignored (as is one for a terminal job). A
job not yet final is planned again: the planner died half-way, or the tracker
dispatched it twice. The second plan yields the same item ids, so the tracker counts
every item once; the repeat costs only work, never a wrong count.

The plan is read in a task of its own and cut into chunks by size, or by time for a
slow planner (a crawl): a partly filled chunk leaves after `linger` seconds.

A retry job (`params.retry_items`, the original's failed item ids) is planned like
its original, and only the listed items are kept: item ids are stable across plans,
so every worker type honours retries without code of its own (a worker may still
skip unlisted items itself, to save reading them).
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from jobs_shared.contracts import (
    TERMINAL_JOB_STATUSES,
    JobFailed,
    JobStarted,
    JobTotalGrew,
    RunJob,
    WorkChunk,
    WorkItem,
)
from jobs_shared.contracts.commands import RETRY_ITEMS_PARAM
from jobs_shared.contracts.events import JobEvent
from jobs_shared.store import JobStore
from jobs_shared.worker.base import Worker
from jobs_shared.worker.cancellation import Cancellations
from jobs_shared.worker.errors import InvalidDataError, classify
from jobs_shared.worker.heartbeat import Activity

log = logging.getLogger(__name__)

TOTAL_REPORT_SECONDS = 1.0


class PlanOutput(Protocol):
    """Where a plan goes (`amqp.WorkerBus`): each call returns once the broker confirmed it."""

    async def event(self, event: JobEvent) -> None: ...

    async def chunk(self, chunk: WorkChunk) -> None: ...


class PlanFailedError(Exception):
    """The worker's plan raised (its cause): the job fails as a whole."""


class Planner:
    def __init__(
        self,
        worker: Worker,
        store: JobStore,
        bus: PlanOutput,
        cancellations: Cancellations,
        activity: Activity,
        *,
        chunk_size: int,
        linger: float,
    ) -> None:
        self._worker = worker
        self._store = store
        self._bus = bus
        self._cancellations = cancellations
        self._activity = activity
        self._chunk_size = chunk_size
        self._linger = linger

    async def run(self, job: RunJob) -> None:
        """Plan `job` unless it was planned already; raises only if publishing failed."""
        if await self._already_planned(job):
            return
        with self._activity.planning(job.job_id):
            try:
                await self._publish_plan(job)
            except PlanFailedError as failed:
                failure = classify(failed.__cause__ or failed)
                log.warning("job %s failed while planning: %s", job.job_id, failure.message)
                await self._bus.event(
                    JobFailed(
                        job_id=job.job_id,
                        tenant=job.tenant,
                        job_type=job.job_type,
                        error=failure.message,
                        category=failure.category,
                    )
                )

    async def _already_planned(self, job: RunJob) -> bool:
        if self._cancellations.is_cancelled(job.job_id):
            log.info("job %s is cancelled: not planning it", job.job_id)
            return True
        try:
            state = await self._store.get_job(job.tenant, job.job_id)
        except Exception as error:  # planning twice is safe; not planning is not
            log.warning("could not check job %s in the store (%r): planning it", job.job_id, error)
            return False
        if state is None:
            return False
        if state.status in TERMINAL_JOB_STATUSES or state.total_final:
            log.info("job %s was planned already (%s): ignoring this run", job.job_id, state.status)
            return True
        return False

    async def _publish_plan(self, job: RunJob) -> None:
        loop = asyncio.get_running_loop()
        wanted = _retry_items(job)
        seen: set[str] = set()
        total = chunks = 0
        reported_at: float | None = None
        async with _Batches(lambda: self._worker.plan(job), self._chunk_size, self._linger) as plan:
            while batch := await plan.next():
                if self._cancellations.is_cancelled(job.job_id):
                    log.info("job %s was cancelled while planning (%d items)", job.job_id, total)
                    return
                items = _new_items(batch, seen, wanted)
                if not items:
                    continue
                if reported_at is None or loop.time() - reported_at >= TOTAL_REPORT_SECONDS:
                    first = reported_at is None
                    await self._report_total(job, total + len(items), final=False, first=first)
                    reported_at = loop.time()
                await self._bus.chunk(
                    WorkChunk(
                        job_id=job.job_id,
                        tenant=job.tenant,
                        job_type=job.job_type,
                        user_email=job.user_email,
                        chunk=chunks,
                        items=items,
                    )
                )
                total += len(items)
                chunks += 1
        await self._report_total(job, total, final=True, first=reported_at is None)
        log.info("planned job %s: %d items in %d chunks", job.job_id, total, chunks)

    async def _report_total(self, job: RunJob, total: int, *, final: bool, first: bool) -> None:
        event = JobStarted if first else JobTotalGrew
        await self._bus.event(
            event(
                job_id=job.job_id,
                tenant=job.tenant,
                job_type=job.job_type,
                total_items=total,
                total_final=final,
            )
        )


def _retry_items(job: RunJob) -> frozenset[str] | None:
    """The item ids a retry redoes; None for a job that is not a retry (it runs every item)."""
    listed = job.params.get(RETRY_ITEMS_PARAM)
    if listed is None:
        return None
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise PlanFailedError() from InvalidDataError(
            f"`{RETRY_ITEMS_PARAM}` must be a list of item ids."
        )
    return frozenset(listed)


def _new_items(
    batch: list[WorkItem], seen: set[str], wanted: frozenset[str] | None
) -> list[WorkItem]:
    """`batch` without items planned before (one id counts once, so it is run once), and
    without items a retry does not redo."""
    new: list[WorkItem] = []
    for item in batch:
        if wanted is not None and item.item_id not in wanted:
            continue
        if item.item_id in seen:
            log.debug("dropping a repeated item id %r", item.item_id)
            continue
        seen.add(item.item_id)
        new.append(item)
    return new


@dataclass(frozen=True, slots=True)
class _End:
    error: Exception | None


class _Batches:
    """The worker's plan, run in a task of its own, read in batches by size or by time."""

    def __init__(
        self, plan: Callable[[], AsyncIterator[WorkItem]], size: int, linger: float
    ) -> None:
        self._plan = plan
        self._size = size
        self._linger = linger
        self._queue: asyncio.Queue[WorkItem | _End] = asyncio.Queue(maxsize=size)
        self._ended = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._produce(), name="plan")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})

    async def next(self) -> list[WorkItem]:
        """The next batch; empty once the plan has ended. Raises `PlanFailedError`."""
        batch: list[WorkItem] = []
        deadline: float | None = None
        while len(batch) < self._size and not self._ended:
            try:
                got = self._queue.get_nowait()  # a fast planner: no timer per item
            except asyncio.QueueEmpty:
                try:
                    async with asyncio.timeout_at(deadline):
                        got = await self._queue.get()
                except TimeoutError:
                    break
            if isinstance(got, _End):
                self._ended = True
                if got.error is not None:
                    raise PlanFailedError() from got.error
                break
            batch.append(got)
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + self._linger
        return batch

    async def _produce(self) -> None:
        try:
            async for item in self._plan():
                if not isinstance(item, WorkItem):
                    raise TypeError(f"plan() yielded a {type(item).__name__}, not a WorkItem")
                await self._queue.put(item)
        except Exception as error:
            await self._queue.put(_End(error))
        else:
            await self._queue.put(_End(None))
