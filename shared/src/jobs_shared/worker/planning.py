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
slow planner (a crawl): a partly filled chunk leaves after `linger` seconds. A plan may
yield batches already written as JSON (`EncodedItems`): they go into the chunk message
as they are, and are decoded only to take items out of them (a retry, a repeated id) or
to cut one that holds more than a chunk.

A retry job (`params.retry_items`, the original's failed item ids) is planned like
its original, and only the listed items are kept: item ids are stable across plans,
so every worker type honours retries without code of its own (a worker may still
skip unlisted items itself, to save reading them).
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_json

from jobs_shared.contracts import (
    TERMINAL_JOB_STATUSES,
    JobFailed,
    JobStarted,
    JobTotalGrew,
    RunJob,
    WorkItem,
)
from jobs_shared.contracts.commands import RETRY_ITEMS_PARAM
from jobs_shared.contracts.events import JobEvent
from jobs_shared.contracts.work import EncodedItems
from jobs_shared.contracts.writing import object_with_array
from jobs_shared.store import JobStore
from jobs_shared.worker.base import PlannedItems, Worker
from jobs_shared.worker.cancellation import Cancellations
from jobs_shared.worker.errors import InvalidDataError, classify
from jobs_shared.worker.heartbeat import Activity

log = logging.getLogger(__name__)

TOTAL_REPORT_SECONDS = 1.0


class PlanOutput(Protocol):
    """Where a plan goes (`amqp.WorkerBus`): each call returns once the broker confirmed it."""

    async def event(self, event: JobEvent) -> None: ...

    async def chunk(self, body: bytes) -> None:
        """A `WorkChunk` written as JSON."""


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
                count = sum(map(_size, items))
                if not count:
                    continue
                if reported_at is None or loop.time() - reported_at >= TOTAL_REPORT_SECONDS:
                    first = reported_at is None
                    await self._report_total(job, total + count, final=False, first=first)
                    reported_at = loop.time()
                await self._bus.chunk(_chunk_json(job, chunks, items))
                total += count
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
    batch: list[PlannedItems], seen: set[str], wanted: frozenset[str] | None
) -> list[PlannedItems]:
    """`batch` without items planned before (one id counts once, so it is run once), and
    without items a retry does not redo. A batch written as JSON is kept as it is when
    none of its items goes; otherwise it is decoded and its items are looked at singly."""
    new: list[PlannedItems] = []
    for element in batch:
        if isinstance(element, EncodedItems):
            ids = set(element.item_ids)
            if wanted is None and len(ids) == len(element) and seen.isdisjoint(ids):
                seen.update(ids)
                new.append(element)
                continue
            items = _decoded(element)
        else:
            items = [element]
        for item in items:
            if wanted is not None and item.item_id not in wanted:
                continue
            if item.item_id in seen:
                log.debug("dropping a repeated item id %r", item.item_id)
                continue
            seen.add(item.item_id)
            new.append(item)
    return new


def _size(element: PlannedItems) -> int:
    return len(element) if isinstance(element, EncodedItems) else 1


_ITEM_LIST = TypeAdapter(list[WorkItem])


def _decoded(encoded: EncodedItems) -> list[WorkItem]:
    """The items of a batch written as JSON; a batch that does not hold valid items fails
    the plan (its maker broke `EncodedItems`' promise)."""
    try:
        return _ITEM_LIST.validate_json(encoded.items_json)
    except ValidationError as error:
        raise PlanFailedError() from error


def _chunk_json(job: RunJob, number: int, items: Sequence[PlannedItems]) -> bytes:
    """The `WorkChunk` of `items` as JSON. Runs of single items are written by pydantic; a
    batch already written is copied in as it is (its array's brackets dropped)."""
    arrays: list[bytes] = []
    run: list[WorkItem] = []
    for element in items:
        if isinstance(element, WorkItem):
            run.append(element)
            continue
        if run:
            arrays.append(to_json(run))
            run = []
        arrays.append(element.items_json)
    if run:
        arrays.append(to_json(run))
    head = {
        "job_id": job.job_id,
        "tenant": job.tenant,
        "job_type": job.job_type,
        "user_email": job.user_email,
        "chunk": number,
    }
    return object_with_array(head, "items", (a[1:-1] for a in arrays if a != b"[]"))


@dataclass(frozen=True, slots=True)
class _End:
    error: Exception | None


class _Batches:
    """The worker's plan, run in a task of its own, read in batches by size or by time.

    A batch holds at most `size` items, `EncodedItems` counting as the items they hold;
    they are never cut, unless one alone holds more than `size` (it is then decoded and
    its items go singly). The queue holds at most `size` elements and one `EncodedItems`
    at a time, so a fast plan waits for the publisher instead of filling memory."""

    def __init__(
        self, plan: Callable[[], AsyncIterator[PlannedItems]], size: int, linger: float
    ) -> None:
        self._plan = plan
        self._size = size
        self._linger = linger
        self._queue: asyncio.Queue[PlannedItems | _End] = asyncio.Queue(maxsize=size)
        self._carried: list[PlannedItems] = []
        """Taken from the queue but left for the next batch, next one last."""
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

    async def next(self) -> list[PlannedItems]:
        """The next batch; empty once the plan has ended. Raises `PlanFailedError`."""
        batch: list[PlannedItems] = []
        count = 0
        deadline: float | None = None
        while count < self._size and (self._carried or not self._ended):
            if self._carried:
                got: PlannedItems | _End = self._carried.pop()
            else:
                try:
                    got = await self._take(deadline)
                except TimeoutError:
                    break
            if isinstance(got, _End):
                self._ended = True
                if got.error is not None:
                    raise PlanFailedError() from got.error
                break
            if isinstance(got, EncodedItems) and count + len(got) > self._size:
                if len(got) > self._size:
                    self._carried.extend(reversed(_decoded(got)))
                else:
                    self._carried.append(got)  # whole, in the next batch
                    break
                continue
            batch.append(got)
            count += _size(got)
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + self._linger
        return batch

    async def _take(self, deadline: float | None) -> PlannedItems | _End:
        try:
            got = self._queue.get_nowait()  # a fast planner: no timer per item
        except asyncio.QueueEmpty:
            async with asyncio.timeout_at(deadline):
                got = await self._queue.get()
        self._queue.task_done()
        return got

    async def _produce(self) -> None:
        try:
            async for element in self._plan():
                if isinstance(element, EncodedItems):
                    await self._queue.put(element)
                    await self._queue.join()  # many items: one such batch waits at a time
                elif isinstance(element, WorkItem):
                    await self._queue.put(element)
                else:
                    raise TypeError(f"plan() yielded a {type(element).__name__}, not a WorkItem")
        except Exception as error:
            await self._queue.put(_End(error))
        else:
            await self._queue.put(_End(None))
