"""Planning: started before the first chunk, final total only after the last; failures, repeats."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from pydantic import BaseModel

from jobs_shared.contracts import (
    JobFailed,
    JobStarted,
    JobStatus,
    JobTotalGrew,
    JobType,
    RunJob,
    WorkChunk,
    WorkItem,
)
from jobs_shared.contracts.events import JobEvent
from jobs_shared.domain.state import JobState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store import JobStore
from jobs_shared.worker import ItemContext, ParseError, Worker
from jobs_shared.worker.cancellation import Cancellations
from jobs_shared.worker.heartbeat import Activity
from jobs_shared.worker.planning import Planner

T0 = datetime(2030, 1, 1, tzinfo=UTC)
RUN = RunJob(
    job_id="job-1",
    tenant="acme",
    job_type=JobType.ENRICHMENT,
    user_email="ops@acme.test",
    created_at=T0,
)


class Listed(Worker):
    """Plans the given item ids; may fail after them, or stall after them."""

    job_type = JobType.ENRICHMENT

    def __init__(self, ids: list[str], fail: Exception | None = None, stall: bool = False):
        self.ids = ids
        self.fail = fail
        self.stall = stall

    async def plan(self, job: RunJob) -> AsyncIterator[WorkItem]:
        for item_id in self.ids:
            yield WorkItem(item_id=item_id)
        if self.stall:
            await asyncio.sleep(60)
        if self.fail is not None:
            raise self.fail

    async def process(self, item: WorkItem, context: ItemContext) -> dict[str, Any] | None:
        raise AssertionError("planning never processes")


class Recorded:
    def __init__(self) -> None:
        self.sent: list[BaseModel] = []
        self.chunked = asyncio.Event()

    async def event(self, event: JobEvent) -> None:
        self.sent.append(event)

    async def chunk(self, chunk: WorkChunk) -> None:
        self.sent.append(chunk)
        self.chunked.set()

    def summary(self) -> list[tuple[str, int, bool | None]]:
        """(kind, total or item count, total_final)"""
        rows: list[tuple[str, int, bool | None]] = []
        for message in self.sent:
            if isinstance(message, JobStarted | JobTotalGrew):
                rows.append((type(message).__name__, message.total_items, message.total_final))
            elif isinstance(message, WorkChunk):
                rows.append(("chunk", len(message.items), None))
            else:
                rows.append((type(message).__name__, 0, None))
        return rows


class Store:
    def __init__(self, job: JobState | None = None, broken: bool = False) -> None:
        self.job = job
        self.broken = broken

    async def get_job(self, tenant: str, job_id: str) -> JobState | None:
        if self.broken:
            raise ConnectionError("store down")
        return self.job


async def plan(
    worker: Worker,
    store: Store | None = None,
    cancellations: Cancellations | None = None,
    job: RunJob = RUN,
) -> Recorded:
    recorded = Recorded()
    job_store = cast(JobStore, store or Store())
    planner = Planner(
        worker,
        job_store,
        recorded,
        cancellations or Cancellations(job_store),
        Activity(),
        chunk_size=50,
        linger=0.05,
    )
    async with asyncio.timeout(5):
        await planner.run(job)
    return recorded


def ids(n: int) -> list[str]:
    return [f"row-{i}" for i in range(n)]


async def test_started_goes_first_and_the_final_total_after_the_last_chunk() -> None:
    recorded = await plan(Listed(ids(120)))
    assert recorded.summary() == [
        ("JobStarted", 50, False),
        ("chunk", 50, None),
        ("chunk", 50, None),
        ("chunk", 20, None),
        ("JobTotalGrew", 120, True),
    ]
    chunks = [m for m in recorded.sent if isinstance(m, WorkChunk)]
    assert [c.chunk for c in chunks] == [0, 1, 2]
    assert chunks[0].user_email == "ops@acme.test"


async def test_no_items_is_a_final_total_of_zero() -> None:
    assert (await plan(Listed([]))).summary() == [("JobStarted", 0, True)]


async def test_a_repeated_item_id_is_planned_once() -> None:
    recorded = await plan(Listed(["a", "b", "a", "c", "b"]))
    assert recorded.summary()[-1] == ("JobTotalGrew", 3, True)


async def test_a_failing_plan_fails_the_job_with_its_category() -> None:
    recorded = await plan(Listed([], fail=ParseError("The file is not a spreadsheet.")))
    [failed] = recorded.sent
    assert isinstance(failed, JobFailed)
    assert (failed.category, failed.error) == (
        ErrorCategory.PARSE_ERROR,
        "The file is not a spreadsheet.",
    )


@pytest.mark.parametrize(
    ("status", "total_final"),
    [(JobStatus.IN_PROGRESS, True), (JobStatus.CANCELLED, False), (JobStatus.FAILED, False)],
)
async def test_a_job_planned_already_or_ended_is_not_planned_again(
    status: JobStatus, total_final: bool
) -> None:
    job = JobState(
        id="job-1",
        type=JobType.ENRICHMENT,
        tenant="acme",
        created_at=T0,
        updated_at=T0,
        status=status,
        total_final=total_final,
    )
    assert (await plan(Listed(ids(3)), Store(job))).sent == []


async def test_a_job_half_planned_or_unknown_to_a_broken_store_is_planned() -> None:
    half = JobState(
        id="job-1", type=JobType.ENRICHMENT, tenant="acme", created_at=T0, updated_at=T0
    )
    for store in (Store(half), Store(broken=True)):
        assert (await plan(Listed(ids(3)), store)).summary()[-1] == ("JobTotalGrew", 3, True)


async def test_a_slow_planner_gets_a_part_chunk_out_after_the_linger() -> None:
    recorded = Recorded()
    store = cast(JobStore, Store())
    planner = Planner(
        Listed(ids(3), stall=True),
        store,
        recorded,
        Cancellations(store),
        Activity(),
        chunk_size=50,
        linger=0.05,
    )
    task = asyncio.create_task(planner.run(RUN))
    try:
        async with asyncio.timeout(2):
            await recorded.chunked.wait()
    finally:
        task.cancel()
    assert recorded.summary() == [("JobStarted", 3, False), ("chunk", 3, None)]


async def test_a_job_known_to_be_cancelled_is_not_planned() -> None:
    store = cast(JobStore, Store())
    cancellations = Cancellations(store)
    cancellations.add("job-1")
    assert (await plan(Listed(ids(3)), cancellations=cancellations)).sent == []


async def test_a_retry_plans_only_the_items_it_lists() -> None:
    retry = RUN.model_copy(update={"params": {"retry_items": ["row-7", "row-2", "gone"]}})
    recorded = await plan(Listed(ids(10)), job=retry)
    [chunk] = [m for m in recorded.sent if isinstance(m, WorkChunk)]
    assert [item.item_id for item in chunk.items] == ["row-2", "row-7"]  # in the plan's order
    assert recorded.summary()[-1] == ("JobTotalGrew", 2, True)


async def test_a_retry_whose_list_is_not_item_ids_fails_as_invalid() -> None:
    bad = RUN.model_copy(update={"params": {"retry_items": "row-1"}})
    [failed] = (await plan(Listed(ids(3)), job=bad)).sent
    assert isinstance(failed, JobFailed)
    assert failed.category == ErrorCategory.VALIDATION_ERROR
