"""The worker runtime against real RabbitMQ: exact outcomes, replicas, cancel, drain, poison.

A scripted worker plays every kind of item (succeeds, invalid, rate-limited twice then
succeeds, slower than its time limit, sleeps a while). The test consumes `jobs.events`
(and the cancels) itself and folds them with the tracker's own fold, so "exact" means
exactly what the tracker would count.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage

from jobs_shared.contracts import (
    CancelJob,
    ItemOutcomes,
    ItemStatus,
    JobStarted,
    JobStatus,
    JobType,
    RunJob,
    WorkChunk,
    WorkerHeartbeat,
    WorkItem,
    parse_tracker_message,
    utc_now,
)
from jobs_shared.contracts.commands import CANCEL_FENCE_SECONDS
from jobs_shared.contracts.routing import EVENT_KEYS, cancel_key, run_key
from jobs_shared.contracts.work import HEARTBEAT_KEY, items_key
from jobs_shared.domain.fold import fold_batch
from jobs_shared.domain.state import ItemKey, ItemState, JobState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store import open_store
from jobs_shared.topology import (
    COMMANDS,
    ERROR_HEADER,
    EVENTS,
    ITEM_QUEUES,
    RUN_QUEUES,
    TRACKER_INBOX,
    WORK,
    declare_topology,
)
from jobs_shared.worker import (
    InvalidDataError,
    ItemContext,
    RateLimitedError,
    Worker,
    WorkerRuntime,
    WorkerSettings,
)
from jobs_shared.worker.service import build_app
from tests.support.tracker import Bus, wait_until

pytestmark = pytest.mark.rabbitmq

TYPE = JobType.ENRICHMENT
RUNS, ITEMS = RUN_QUEUES[TYPE], ITEM_QUEUES[TYPE]
WAIT = 15.0
ITEM_TIME_LIMIT = 0.3


class Scripted(Worker):
    """Plans `params["items"]` ({"id", "do", "seconds"}); does what each item says."""

    job_type = TYPE

    def __init__(self) -> None:
        self.starts: list[tuple[str, float]] = []
        self.succeeded: list[str] = []

    async def plan(self, job: RunJob) -> AsyncIterator[WorkItem]:
        for spec in job.params["items"]:
            yield WorkItem(item_id=spec["id"], label=f"Item {spec['id']}", payload=spec)

    async def process(self, item: WorkItem, context: ItemContext) -> dict[str, Any] | None:
        self.starts.append((item.item_id, asyncio.get_running_loop().time()))
        action = item.payload.get("do", "ok")
        if action == "invalid":
            raise InvalidDataError("The product has no SKU.")
        if action == "flaky" and context.attempt < 3:
            raise RateLimitedError("Too many requests.")
        if action == "slow":
            await asyncio.sleep(ITEM_TIME_LIMIT * 10)
        await asyncio.sleep(item.payload.get("seconds", 0))
        self.succeeded.append(item.item_id)
        return {"attempt": context.attempt}


def specs(count: int, prefix: str = "i", **spec: Any) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{n:03d}", **spec} for n in range(count)]


@dataclass
class Folded:
    """`jobs.events` and cancels as the tracker would fold them, plus the heartbeats."""

    jobs: dict[str, JobState] = field(default_factory=dict)
    items: dict[ItemKey, ItemState] = field(default_factory=dict)
    outcomes: list[ItemOutcomes] = field(default_factory=list)
    heartbeats: list[WorkerHeartbeat] = field(default_factory=list)

    async def take(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            if message.routing_key == HEARTBEAT_KEY:
                self.heartbeats.append(WorkerHeartbeat.model_validate_json(message.body))
                return
            decoded = parse_tracker_message(message.routing_key or "", message.body, "-")
            if isinstance(decoded, ItemOutcomes):
                self.outcomes.append(decoded)
            result = fold_batch([decoded], self.jobs, self.items, utc_now())
            self.jobs.update(result.jobs)
            self.items.update(result.items)

    def items_of(self, job_id: str) -> list[ItemState]:
        return [item for (job, _), item in self.items.items() if job == job_id]


@dataclass
class Harness:
    amqp_url: str
    store_url: str
    bus: Bus
    folded: Folded
    runtimes: AsyncExitStack

    def settings(self, **overrides: Any) -> WorkerSettings:
        values: dict[str, Any] = {
            "amqp_url": self.amqp_url,
            "store_url": self.store_url,
            "worker_concurrency": 4,
            "worker_chunk_size": 5,
            "worker_item_timeout_seconds": ITEM_TIME_LIMIT,
            "worker_retry_first_delay_seconds": 0.01,
            "worker_retry_max_delay_seconds": 0.02,
            "worker_outcome_linger_ms": 20,
            "worker_grace_seconds": 1.0,
            "worker_heartbeat_seconds": 0.2,
        }
        return WorkerSettings(**(values | overrides))

    async def start(self, worker: Worker, **overrides: Any) -> WorkerRuntime:
        """A runtime consuming until the test ends (or its own `stop`)."""
        runtime = WorkerRuntime(worker, self.settings(**overrides))
        await runtime.start()
        self.runtimes.push_async_callback(stop_unless_stopped, runtime)
        return runtime

    async def run(self, job_id: str, items: list[dict[str, Any]]) -> None:
        command = RunJob(
            job_id=job_id,
            tenant="acme",
            job_type=TYPE,
            user_email="ops@acme.test",
            params={"items": items},
            created_at=utc_now(),
        )
        await self.bus.publish_raw(COMMANDS.name, run_key(TYPE), command.model_dump_json().encode())

    async def cancel(self, job_id: str) -> None:
        command = CancelJob(
            job_id=job_id, tenant="acme", job_type=TYPE, requested_by="ops@acme.test"
        )
        await self.bus.publish_raw(
            COMMANDS.name, cancel_key(TYPE), command.model_dump_json().encode()
        )

    async def cancel_in_store(self, job_id: str, total: int) -> None:
        """Store the job cancelled, as the tracker would, without the replicas hearing it."""
        store = open_store(self.store_url)
        await store.open()
        try:
            started = JobStarted(job_id=job_id, tenant="acme", job_type=TYPE, total_items=total)
            cancel = CancelJob(job_id=job_id, tenant="acme", job_type=TYPE, requested_by="ops")
            result = fold_batch([started, cancel], {}, {}, utc_now())
            await store.save_fold(list(result.jobs.values()), list(result.items.values()))
        finally:
            await store.close()

    async def ended(self, job_id: str, total: int) -> JobState:
        """The folded job once all `total` of its items ended."""

        def done() -> bool:
            job = self.folded.jobs.get(job_id)
            return job is not None and job.total_final and job.ended_items >= total

        await wait_until(done, f"all {total} items of {job_id} ended", within=WAIT)
        return self.folded.jobs[job_id]


async def ready_messages(amqp_url: str, queue: str) -> int:
    """Messages ready in `queue`, on a channel of its own: `Bus.depth` answers from aio-pika's
    cache of passively declared queues once the channel declared that queue before."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def stop_unless_stopped(runtime: WorkerRuntime) -> None:
    if not runtime.drain_state.begun:
        await runtime.stop()


@pytest.fixture
async def harness(amqp_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async with Bus.connect(amqp_url) as bus:
        await declare_topology(amqp_url)
        queues = [RUNS, ITEMS, TRACKER_INBOX]
        await bus.purge(*(q.name for q in queues), *(q.dead_letter_name for q in queues))
        folded = Folded()
        listener = await bus.channel.declare_queue(exclusive=True, auto_delete=True)
        for key in [*EVENT_KEYS.values(), HEARTBEAT_KEY]:
            await listener.bind(EVENTS.name, key)
        await listener.bind(COMMANDS.name, cancel_key(TYPE))
        await listener.consume(folded.take)
        async with AsyncExitStack() as runtimes:
            yield Harness(amqp_url, f"sqlite:///{tmp_path / 'jobs.db'}", bus, folded, runtimes)
        await bus.purge(*(q.name for q in queues))  # leave the shared vhost as found


async def test_every_outcome_of_a_job_arrives_exactly(harness: Harness) -> None:
    items = [
        *specs(6, "ok"),
        *specs(2, "bad", do="invalid"),
        *specs(2, "flaky", do="flaky"),
        *specs(1, "slow", do="slow"),
    ]
    runtime = await harness.start(Scripted())
    await harness.run("exact", items)

    job = await harness.ended("exact", len(items))
    assert (job.total_items, job.processed_items, job.failed_items) == (11, 8, 3)
    assert job.status == JobStatus.PARTIAL_SUCCESS
    assert job.error_counts == {ErrorCategory.VALIDATION_ERROR: 2, ErrorCategory.TIMEOUT: 1}
    by_id = {item.item_id: item for item in harness.folded.items_of("exact")}
    assert by_id["flaky000"].attempts == 3
    assert by_id["flaky000"].result == {"attempt": 3}
    assert by_id["slow000"].error_message == "Processing the item took longer than 0.3 s."
    assert all(item.started_at is not None and item.label for item in by_id.values())
    assert any(beat.jobs.get("exact") for beat in harness.folded.heartbeats)
    await runtime.stop()  # a chunk still unacked would be handed back or requeued now
    assert await ready_messages(harness.amqp_url, ITEMS.name) == 0


async def test_two_replicas_share_the_chunks_of_one_job(harness: Harness) -> None:
    first, second = Scripted(), Scripted()
    await harness.start(first)
    await harness.start(second)
    await harness.run("shared", specs(40, seconds=0.05))

    job = await harness.ended("shared", 40)
    assert (job.processed_items, job.status) == (40, JobStatus.COMPLETED)
    assert first.succeeded
    assert second.succeeded
    assert sorted(first.succeeded + second.succeeded) == [f"i{n:03d}" for n in range(40)]


async def test_a_replica_holds_no_more_chunks_than_its_prefetch(harness: Harness) -> None:
    worker = Scripted()
    await harness.start(worker, worker_concurrency=1, worker_chunk_prefetch=1)
    await harness.run("prefetch", specs(15, seconds=0.5))  # 3 chunks, 2.5 s each

    def planned() -> bool:
        job = harness.folded.jobs.get("prefetch")
        return job is not None and job.total_final

    await wait_until(planned, "the job is planned", within=WAIT)
    assert await ready_messages(harness.amqp_url, ITEMS.name) == 2  # left for other replicas


async def test_no_item_starts_after_a_cancel_and_the_rest_are_skipped(harness: Harness) -> None:
    worker = Scripted()
    runtime = await harness.start(worker, worker_concurrency=2)
    await harness.run("cancelled", specs(30, seconds=0.1))
    await wait_until(lambda: len(worker.starts) >= 4, "some items started", within=WAIT)

    await harness.cancel("cancelled")
    await wait_until(
        lambda: runtime.cancellations.is_cancelled("cancelled"), "the cancel arrived", within=WAIT
    )
    heard_at = asyncio.get_running_loop().time()

    job = await harness.ended("cancelled", 30)
    assert job.status == JobStatus.CANCELLED
    assert all(started < heard_at for _, started in worker.starts)
    assert job.processed_items == len(worker.starts)  # what was in flight finished and counts
    assert job.skipped_items == 30 - len(worker.starts) > 0


async def test_a_replica_started_after_the_cancel_skips_from_the_store(harness: Harness) -> None:
    await harness.cancel_in_store("late", 5)
    worker = Scripted()
    await harness.start(worker)
    chunk = WorkChunk(
        job_id="late",
        tenant="acme",
        job_type=TYPE,
        chunk=0,
        items=[WorkItem(item_id=spec["id"]) for spec in specs(5)],
    )
    await harness.bus.publish_raw(WORK.name, items_key(TYPE), chunk.model_dump_json().encode())

    await wait_until(
        lambda: len(harness.folded.items_of("late")) == 5, "5 outcomes arrived", within=WAIT
    )
    assert {item.status for item in harness.folded.items_of("late")} == {ItemStatus.SKIPPED}
    assert worker.starts == []


async def test_a_replica_that_missed_the_cancel_starts_nothing_past_the_fence(
    harness: Harness,
) -> None:
    """Its cancel queue was down (a reconnect) when the cancel went out: the store fence
    still stops it within `CANCEL_FENCE_SECONDS` of the cancel being stored, mid-chunk."""
    worker = Scripted()
    await harness.start(worker, worker_concurrency=2, worker_chunk_size=40)
    await harness.run("missed", specs(40, seconds=0.1))  # one chunk, 2 s of work
    await wait_until(lambda: len(worker.starts) >= 4, "some items started", within=WAIT)

    await harness.cancel_in_store("missed", 40)
    stored_at = asyncio.get_running_loop().time()

    job = await harness.ended("missed", 40)
    assert all(started <= stored_at + CANCEL_FENCE_SECONDS for _, started in worker.starts)
    assert job.skipped_items > 0


async def test_a_stop_hands_back_what_it_did_not_finish_and_loses_nothing(
    harness: Harness,
) -> None:
    items = [*specs(1, "long", seconds=1.0), *specs(19, "quick", seconds=0.1)]
    first = Scripted()
    limits = {"worker_item_timeout_seconds": 5.0, "worker_grace_seconds": 0.3}
    runtime = await harness.start(first, **limits)
    await harness.run("drained", items)
    await wait_until(lambda: len(first.starts) >= 6, "some items started", within=WAIT)

    async with asyncio.timeout(5):
        await runtime.stop()
    second = Scripted()
    await harness.start(second, **limits)

    job = await harness.ended("drained", len(items))
    assert (job.processed_items, job.status) == (20, JobStatus.COMPLETED)
    assert sorted(first.succeeded + second.succeeded) == sorted(spec["id"] for spec in items)
    assert first.succeeded
    assert second.succeeded
    # The long item outlived the grace period: cancelled, handed back, run again.
    started_twice = {item for item, _ in first.starts} & {item for item, _ in second.starts}
    assert "long000" in started_twice
    for item in harness.folded.items_of("drained"):
        assert item.attempts >= (2 if item.item_id in started_twice else 1)


@pytest.mark.parametrize(
    ("queue", "exchange", "routing_key"),
    [(ITEMS, WORK.name, items_key(TYPE)), (RUNS, COMMANDS.name, run_key(TYPE))],
    ids=["chunk", "run"],
)
async def test_an_undecodable_message_goes_to_its_dead_letter_queue_with_the_reason(
    harness: Harness, queue: Any, exchange: str, routing_key: str
) -> None:
    await harness.start(Scripted())
    await harness.bus.publish_raw(exchange, routing_key, b"{not json", message_id="poison")

    [dead] = await harness.bus.take(queue.dead_letter_name, 1)
    assert dead.body == b"{not json"
    assert dead.message_id == "poison"
    assert "Invalid JSON" in str((dead.headers or {})[ERROR_HEADER])

    await harness.run("after-poison", specs(3))  # the runtime went on
    assert (await harness.ended("after-poison", 3)).status == JobStatus.COMPLETED


async def test_health_says_ready_until_the_drain_begins(harness: Harness) -> None:
    runtime = await harness.start(Scripted())
    transport = httpx.ASGITransport(app=build_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).json() == {"status": "ready"}

        await runtime.stop()
        answer = await http.get("/readyz")
        assert answer.status_code == 503
        assert "draining: finishing in-flight items" in answer.json()["problems"]
