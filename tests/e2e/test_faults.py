"""Faults with real worker processes: a replica killed mid-job, replicas sharing one job, and a
cancel racing three busy replicas and a fourth that starts afterwards.

Workers are real OS processes on the real worker runtime (`python -m`, configured through
`JOBS_*`) on a RabbitMQ vhost of the test's own; the tracker and the gateway run in the
test's process over the same SQLite file. Two kinds of worker:

- `tests.support.sleepy_worker`: 10,000 items of 10 ms each, eight at a time per
  replica, slow enough for a mid-job moment, quick enough for a test; each item's
  result names the replica that processed it.
- the real ingestion worker (`python -m ingestion`), on a generated 10,000-row CSV
  uploaded through `POST /documents`, two rows at a time per replica so that its
  sub-millisecond rows still leave a mid-job moment.

Counts are checked from the store's item records, not only from the counters.
"""

import csv
import io
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faststream.rabbit import RabbitBroker

from jobs_shared.blobs.directory import DirectoryBlobStore
from jobs_shared.contracts import (
    TERMINAL_JOB_STATUSES,
    ItemStatus,
    JobStatus,
    JobType,
    SubmitJob,
    utc_now,
)
from jobs_shared.domain.state import ItemState, JobState
from jobs_shared.store import CatalogStore, ProductQuery, open_catalog
from tests.support.gateway import Client, gateway_client
from tests.support.ingestion_stack import upload
from tests.support.processes import Replicas, ServiceProcess, replicas
from tests.support.rabbit import temporary_vhost
from tests.support.tracker import TrackerEnv, running_tracker, tracker_env, wait_until

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(120)]

ITEMS = 10_000
ITEM_MS = 10
MID_JOB = 1_000
"""Items processed before the fault is injected."""
JOB_SECONDS = 60.0
ITEM_PAGE = 1_000
QUIET = {"JOBS_LOG_LEVEL": "WARNING"}


@dataclass(frozen=True)
class WorkerKind:
    module: str
    environment: dict[str, str]


SLEEPY = WorkerKind(
    "tests.support.sleepy_worker",
    {"JOBS_WORKER_CONCURRENCY": "8", "JOBS_WORKER_CHUNK_SIZE": "50", **QUIET},
)
INGESTION = WorkerKind(
    "ingestion", {"JOBS_WORKER_CONCURRENCY": "2", "JOBS_WORKER_CHUNK_SIZE": "50", **QUIET}
)


@dataclass
class Faults:
    env: TrackerEnv
    http: Client
    """The gateway, as alice@acme.test: the submitter of every job here."""
    catalog: CatalogStore
    environment: dict[str, str]
    """What every worker replica is configured with (broker, store, blobs)."""
    log_dir: Path
    exits: AsyncExitStack
    groups: dict[str, Replicas] = field(default_factory=dict)
    """Replicas by module."""

    async def start(self, kind: WorkerKind, *names: str) -> list[ServiceProcess]:
        """Replicas of `kind`, ready; stopped when the test ends, before everything else."""
        if kind.module not in self.groups:
            environment = self.environment | kind.environment
            self.groups[kind.module] = await self.exits.enter_async_context(
                replicas(kind.module, environment, self.log_dir)
            )
        return await self.groups[kind.module].start(*names)

    async def submit(self, kind: WorkerKind) -> str:
        """A job of 10,000 items for workers of `kind`; its id."""
        if kind is INGESTION:
            response = await upload(self.http, "products.csv", products_csv(ITEMS))
            assert response.status_code == 202, response.text
            submitted: str = response.json()["id"]
            return submitted
        command = SubmitJob(
            job_id="sleepy",
            tenant="acme",
            user_email="alice@acme.test",
            params={"items": ITEMS, "item_ms": ITEM_MS},
        )
        await self.env.bus.submit(JobType.EXPORT, command)
        return "sleepy"

    async def job_when(
        self, job_id: str, what: str, condition: Callable[[JobState], bool]
    ) -> JobState:
        found: list[JobState] = []

        async def holds() -> bool:
            found[:] = [job] if (job := await self.env.job(job_id)) else []
            return bool(found) and condition(found[0])

        await wait_until(holds, f"job {job_id} {what}", JOB_SECONDS)
        return found[0]

    async def finished(self, job_id: str) -> JobState:
        return await self.job_when(job_id, "ended", lambda job: job.status in TERMINAL_JOB_STATUSES)

    async def mid_job(self, job_id: str) -> JobState:
        return await self.job_when(
            job_id,
            f"is planned and has {MID_JOB} items processed",
            lambda job: job.total_final and job.processed_items >= MID_JOB,
        )

    async def items(self, job_id: str) -> list[ItemState]:
        items: list[ItemState] = []
        while page := await self.env.store.list_items(
            job_id, [], ITEM_PAGE, items[-1].item_id if items else None
        ):
            items.extend(page)
        return items


@pytest.fixture
async def faults(tmp_path: Path) -> AsyncIterator[Faults]:
    with temporary_vhost("jobs-test-faults") as amqp_url:
        async with AsyncExitStack() as exits:
            env = await exits.enter_async_context(tracker_env(amqp_url, tmp_path))
            await exits.enter_async_context(running_tracker(amqp_url, env.store_url))
            broker = await exits.enter_async_context(RabbitBroker(amqp_url, logger=None))
            blob_dir = tmp_path / "blobs"
            blobs, catalog = DirectoryBlobStore(blob_dir), open_catalog(env.store_url)
            for opened in (blobs, catalog):
                await opened.open()
                exits.push_async_callback(opened.close)
            http = await exits.enter_async_context(
                gateway_client(env.store, broker, blobs=blobs, catalog=catalog)
            )
            environment = {
                "JOBS_AMQP_URL": amqp_url,
                "JOBS_STORE_URL": env.store_url,
                "JOBS_BLOB_DIR": str(blob_dir),
            }
            yield Faults(env, http, catalog, environment, tmp_path, exits)


def products_csv(rows: int) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["SKU", "Title", "Price"])
    writer.writerows([f"SKU-{n:05d}", f"Product {n}", f"{n % 100}.99"] for n in range(rows))
    return text.getvalue().encode()


def assert_every_item_counted_once(job: JobState, items: list[ItemState]) -> None:
    """Every planned item is in the store once, and the counters are its statuses."""
    assert len({item.item_id for item in items}) == len(items) == job.total_items == ITEMS
    statuses = Counter(item.status for item in items)
    assert (job.processed_items, job.failed_items, job.skipped_items) == (
        statuses[ItemStatus.SUCCEEDED],
        statuses[ItemStatus.FAILED],
        statuses[ItemStatus.SKIPPED],
    )
    assert job.ended_items == ITEMS


def processed_by(items: list[ItemState]) -> Counter[str]:
    return Counter(
        str(item.result["worker"])
        for item in items
        if item.status == ItemStatus.SUCCEEDED and item.result
    )


@pytest.mark.parametrize("kind", [SLEEPY, INGESTION], ids=["sleepy", "ingestion"])
async def test_a_replica_killed_mid_job_loses_no_item_and_counts_none_twice(
    faults: Faults, kind: WorkerKind
) -> None:
    killed, _ = await faults.start(kind, "killed", "survivor")
    job_id = await faults.submit(kind)
    await faults.mid_job(job_id)

    killed.kill()

    job = await faults.finished(job_id)
    items = await faults.items(job_id)
    assert (job.status, job.processed_items) == (JobStatus.COMPLETED, ITEMS)
    assert_every_item_counted_once(job, items)
    # The chunks the killed replica held were delivered again, to the survivor.
    assert any(item.attempts > 1 for item in items)
    if kind is INGESTION:  # rows written twice are upserts: each product exists once
        assert await faults.catalog.count_products("acme", ProductQuery()) == ITEMS


async def test_three_replicas_share_one_job_and_its_counts_stay_exact(faults: Faults) -> None:
    await faults.start(SLEEPY, "r1", "r2", "r3")
    job_id = await faults.submit(SLEEPY)

    job = await faults.finished(job_id)

    items = await faults.items(job_id)
    assert (job.status, job.processed_items) == (JobStatus.COMPLETED, ITEMS)
    assert_every_item_counted_once(job, items)
    by_replica = processed_by(items)
    assert set(by_replica) == {"r1", "r2", "r3"}, by_replica
    assert sum(by_replica.values()) == ITEMS


async def test_no_item_starts_after_a_cancel_is_answered_even_on_a_later_replica(
    faults: Faults,
) -> None:
    await faults.start(SLEEPY, "r1", "r2", "r3")
    job_id = await faults.submit(SLEEPY)
    await faults.mid_job(job_id)

    response = await faults.http.post(f"/api/v1/jobs/{job_id}/cancel")
    answered_at = utc_now()
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "cancelled"
    await faults.start(SLEEPY, "r4")

    job = await faults.job_when(job_id, "has every item ended", lambda j: j.ended_items == ITEMS)
    items = await faults.items(job_id)
    started_late = [item for item in items if item.started_at and item.started_at > answered_at]
    assert started_late == []
    assert job.status == JobStatus.CANCELLED
    assert_every_item_counted_once(job, items)
    assert job.processed_items >= answer["processed_items"] >= MID_JOB  # processed items kept
    assert job.skipped_items > 0
    assert all(item.started_at is None for item in items if item.status == ItemStatus.SKIPPED)
