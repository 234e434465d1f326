"""Planning: started before the first chunk, final total only after the last; failures, repeats."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import orjson
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
from jobs_shared.worker import EncodedItems, ItemContext, ParseError, Worker
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


class Encoded(Worker):
    """Plans batches already written as JSON, as the ingestion worker's reader writes them;
    `items_json` may be given instead, to plan bytes that are not items."""

    job_type = JobType.ENRICHMENT

    def __init__(self, batches: list[list[str]], items_json: bytes | None = None):
        self.batches = batches
        self.items_json = items_json
        self.yielded = 0

    async def plan(self, job: RunJob) -> AsyncIterator[WorkItem | EncodedItems]:
        for batch in self.batches:
            items = [{"item_id": i, "label": f"Row {i}", "payload": {"n": i}} for i in batch]
            self.yielded += 1
            yield EncodedItems(batch, self.items_json or orjson.dumps(items))

    async def process(self, item: WorkItem, context: ItemContext) -> dict[str, Any] | None:
        raise AssertionError("planning never processes")


class Recorded:
    def __init__(self) -> None:
        self.sent: list[BaseModel] = []
        self.bodies: list[bytes] = []
        self.chunked = asyncio.Event()

    async def event(self, event: JobEvent) -> None:
        self.sent.append(event)

    async def chunk(self, body: bytes) -> None:
        self.bodies.append(body)
        self.sent.append(WorkChunk.model_validate_json(body))  # what a replica would take
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


def chunk_ids(recorded: Recorded) -> list[list[str]]:
    return [[item.item_id for item in m.items] for m in recorded.sent if isinstance(m, WorkChunk)]


async def test_batches_written_as_json_go_into_chunks_as_they_are() -> None:
    batches = [ids(120)[:50], ids(120)[50:100], ids(120)[100:]]
    worker = Encoded(batches)

    recorded = await plan(worker)

    assert chunk_ids(recorded) == batches
    assert recorded.summary()[-1] == ("JobTotalGrew", 120, True)
    [first, *_] = [m for m in recorded.sent if isinstance(m, WorkChunk)]
    assert first.items[0] == WorkItem(item_id="row-0", label="Row row-0", payload={"n": "row-0"})
    assert (first.job_id, first.tenant, first.chunk) == ("job-1", "acme", 0)
    assert first.user_email == "ops@acme.test"
    written = orjson.dumps(
        [{"item_id": i, "label": f"Row {i}", "payload": {"n": i}} for i in batches[0]]
    )
    assert written[1:-1] in recorded.bodies[0]  # copied, not written again


async def test_a_batch_that_does_not_fit_waits_for_the_next_chunk_and_one_too_big_is_cut() -> None:
    recorded = await plan(Encoded([ids(30), [f"b-{n}" for n in range(40)], ids(200)[30:150]]))

    # the 40 wait for the next chunk; the 120 are more than a chunk, so they go singly
    assert [len(chunk) for chunk in chunk_ids(recorded)] == [30, 50, 50, 50, 10]
    assert [i for chunk in chunk_ids(recorded) for i in chunk] == (
        ids(30) + [f"b-{n}" for n in range(40)] + ids(200)[30:150]
    )


async def test_items_and_batches_mixed_keep_the_plans_order() -> None:
    class Mixed(Worker):
        job_type = JobType.ENRICHMENT

        async def plan(self, job: RunJob) -> AsyncIterator[WorkItem | EncodedItems]:
            yield WorkItem(item_id="first")
            yield EncodedItems(["a", "b"], b'[{"item_id":"a"},{"item_id":"b"}]')
            yield WorkItem(item_id="last")

        async def process(self, item: WorkItem, context: ItemContext) -> dict[str, Any] | None:
            raise AssertionError("planning never processes")

    assert chunk_ids(await plan(Mixed())) == [["first", "a", "b", "last"]]


async def test_a_retry_or_a_repeat_takes_items_out_of_a_batch_written_as_json() -> None:
    retry = RUN.model_copy(update={"params": {"retry_items": ["row-7", "row-2"]}})
    assert chunk_ids(await plan(Encoded([ids(10)]), job=retry)) == [["row-2", "row-7"]]

    repeated = await plan(Encoded([ids(3), ["row-1", "new"]]))
    assert chunk_ids(repeated) == [["row-0", "row-1", "row-2", "new"]]


async def test_a_batch_to_take_items_out_of_whose_json_is_not_items_fails_the_job() -> None:
    retry = RUN.model_copy(update={"params": {"retry_items": ["row-0"]}})
    worker = Encoded([["row-0"]], items_json=b'[{"label": "no id"}]')

    [failed] = (await plan(worker, job=retry)).sent

    assert isinstance(failed, JobFailed)
    assert failed.category == ErrorCategory.VALIDATION_ERROR


async def test_a_fast_plan_of_batches_waits_for_the_publisher() -> None:
    class Stuck(Recorded):
        async def chunk(self, body: bytes) -> None:
            await asyncio.sleep(60)

    worker = Encoded([ids(1000)[n : n + 50] for n in range(0, 1000, 50)])
    store = cast(JobStore, Store())
    planner = Planner(
        worker, store, Stuck(), Cancellations(store), Activity(), chunk_size=50, linger=0.05
    )
    task = asyncio.create_task(planner.run(RUN))
    await asyncio.sleep(0.2)
    task.cancel()
    await asyncio.wait({task})

    assert worker.yielded <= 3  # one being published, one waiting: not the whole plan
