"""The cancel fence: an item starts only within `fence` seconds of a store read that began
before it and found its job not cancelled, so no item starts after the gateway's answer."""

import asyncio
from datetime import UTC, datetime
from typing import cast

import pytest

from jobs_shared.contracts import JobStatus, JobType
from jobs_shared.domain.state import JobState
from jobs_shared.store import JobStore
from jobs_shared.worker import JobRef
from jobs_shared.worker.cancellation import Cancellations

FENCE = 0.5
JOB = JobRef("job-1", "acme", JobType.ENRICHMENT, "ops@acme.test")
T0 = datetime(2030, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Store:
    """Answers `get_job` with the job in `status`; reads can be held, or fail."""

    def __init__(self) -> None:
        self.status = JobStatus.IN_PROGRESS
        self.reads = 0
        self.broken = False
        self.open = asyncio.Event()
        self.open.set()

    async def get_job(self, tenant: str, job_id: str) -> JobState:
        self.reads += 1
        await self.open.wait()
        if self.broken:
            raise ConnectionError("store down")
        return JobState(
            id=job_id,
            type=JobType.ENRICHMENT,
            tenant=tenant,
            created_at=T0,
            updated_at=T0,
            status=self.status,
        )


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cancellations(store: Store, clock: Clock) -> Cancellations:
    return Cancellations(cast(JobStore, store), fence=FENCE, clock=clock)


async def start(cancellations: Cancellations) -> datetime | None:
    async with asyncio.timeout(2):
        return await cancellations.start_time(JOB)


async def test_one_read_clears_the_items_that_start_within_half_the_fence(
    cancellations: Cancellations, store: Store, clock: Clock
) -> None:
    assert await start(cancellations) is not None
    clock.now += FENCE / 2
    assert await start(cancellations) is not None
    assert store.reads == 1


async def test_the_fence_is_renewed_ahead_of_need_without_holding_the_item(
    cancellations: Cancellations, store: Store, clock: Clock
) -> None:
    await start(cancellations)
    store.open.clear()
    clock.now += FENCE * 0.75
    assert await start(cancellations) is not None  # while the renewal is held
    await asyncio.sleep(0)
    assert store.reads == 2
    store.open.set()


async def test_past_the_fence_items_wait_for_one_fresh_read_together(
    cancellations: Cancellations, store: Store, clock: Clock
) -> None:
    await start(cancellations)
    store.open.clear()
    clock.now += FENCE * 1.01
    waiting = [asyncio.create_task(start(cancellations)) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in waiting)

    store.open.set()
    assert None not in await asyncio.gather(*waiting)
    assert store.reads == 2


async def test_a_job_the_store_shows_cancelled_starts_nothing(
    cancellations: Cancellations, store: Store, clock: Clock
) -> None:
    await start(cancellations)
    store.status = JobStatus.CANCELLED
    clock.now += FENCE * 2
    assert await start(cancellations) is None
    assert cancellations.is_cancelled(JOB.job_id)


async def test_a_cancel_heard_during_the_read_wins(
    cancellations: Cancellations, store: Store
) -> None:
    store.open.clear()
    waiting = asyncio.create_task(start(cancellations))
    await asyncio.sleep(0.01)
    cancellations.add(JOB.job_id)
    store.open.set()
    assert await waiting is None


async def test_a_replica_that_cannot_read_the_store_starts_nothing_until_it_can(
    cancellations: Cancellations, store: Store
) -> None:
    store.broken = True
    waiting = asyncio.create_task(start(cancellations))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    assert 1 <= store.reads <= 3  # it paused between attempts

    store.broken = False
    assert await waiting is not None
