"""Helpers for tests that run the job tracker against a real RabbitMQ vhost.

`running_tracker` runs one in-process (its broker, batcher and store, no HTTP server);
`Bus` is the test's own AMQP client: it publishes as a submitter or a worker would and
reads the queues the tracker writes to. Every wait is bounded.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from pydantic import BaseModel

from job_tracker.app import Tracker, build_tracker
from job_tracker.settings import TrackerSettings
from jobs_shared.contracts import ItemOutcome, ItemOutcomes, JobStarted, JobType, SubmitJob
from jobs_shared.contracts.events import ItemError
from jobs_shared.contracts.routing import event_key, submit_key
from jobs_shared.contracts.vocabulary import ItemStatus
from jobs_shared.domain.state import JobState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store import JobStore, open_store
from jobs_shared.topology import COMMANDS, EVENTS, RUN_QUEUES, TRACKER_INBOX, declare_topology

WAIT_SECONDS = 30.0
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def make_tracker(
    amqp_url: str, store_url: str, *, batch_size: int = 200, linger_ms: float = 20.0
) -> Tracker:
    """An in-process tracker, built but not started (patch its store before `running`)."""
    settings = TrackerSettings(
        amqp_url=amqp_url,
        store_url=store_url,
        tracker_batch_size=batch_size,
        tracker_batch_linger_ms=linger_ms,
    )
    return build_tracker(settings)


@asynccontextmanager
async def running(tracker: Tracker) -> AsyncIterator[Tracker]:
    """`tracker` consuming its inbox until the block ends (then it shuts down gracefully).

    The app runs in a task of its own: FastStream's lifespan holds an anyio task group,
    which must be left by the task that entered it, and a test may stop two trackers in
    any order.
    """
    stop = asyncio.Event()

    async def serve() -> None:
        async with tracker.app.start_lifespan_context():
            await stop.wait()

    task = asyncio.create_task(serve())

    def consuming() -> bool:
        if task.done():
            task.result()  # raises what made the app fail to start
            raise AssertionError("the tracker stopped while starting")
        return tracker.inbox.consuming

    try:
        await wait_until(consuming, "the tracker consumes")
        yield tracker
    finally:
        stop.set()
        await task


def running_tracker(
    amqp_url: str, store_url: str, *, batch_size: int = 200, linger_ms: float = 20.0
) -> AbstractAsyncContextManager[Tracker]:
    return running(make_tracker(amqp_url, store_url, batch_size=batch_size, linger_ms=linger_ms))


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, within: float = WAIT_SECONDS
) -> None:
    """Poll `condition` until it holds; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting until {what}")
        await asyncio.sleep(0.05)


class Bus:
    """The test's AMQP client (plain aio-pika, independent of the tracker's FastStream)."""

    def __init__(self, connection: AbstractRobustConnection, channel: AbstractChannel) -> None:
        self._connection = connection
        self.channel = channel
        self._exchanges: dict[str, aio_pika.abc.AbstractExchange] = {"": channel.default_exchange}

    @classmethod
    @asynccontextmanager
    async def connect(cls, amqp_url: str) -> AsyncIterator["Bus"]:
        connection = await aio_pika.connect_robust(amqp_url)
        try:
            channel = await connection.channel()
            yield cls(connection, channel)
        finally:
            await connection.close()

    async def submit(self, job_type: JobType, command: SubmitJob) -> None:
        await self.publish_raw(
            COMMANDS.name, submit_key(job_type), command.model_dump_json().encode()
        )

    async def publish_event(self, event: BaseModel) -> None:
        await self.publish_raw(EVENTS.name, event_key(event), event.model_dump_json().encode())

    async def publish_raw(
        self, exchange: str, routing_key: str, body: bytes, message_id: str | None = None
    ) -> None:
        if exchange not in self._exchanges:
            self._exchanges[exchange] = await self.channel.get_exchange(exchange)
        await self._exchanges[exchange].publish(
            aio_pika.Message(body, content_type="application/json", message_id=message_id),
            routing_key=routing_key,
        )

    async def purge(self, *queue_names: str) -> None:
        for name in queue_names:
            queue = await self.channel.get_queue(name)
            await queue.purge()

    async def take(self, queue_name: str, count: int) -> list[AbstractIncomingMessage]:
        """The next `count` messages of `queue_name` (acked), waiting for them to arrive."""
        queue = await self.channel.get_queue(queue_name)
        taken: list[AbstractIncomingMessage] = []

        async def arrived() -> bool:
            while len(taken) < count and (message := await queue.get(fail=False)) is not None:
                await message.ack()
                taken.append(message)
            return len(taken) >= count

        await wait_until(arrived, f"{count} messages are in {queue_name}")
        return taken

    async def depth(self, queue_name: str) -> int:
        declared = await self.channel.declare_queue(queue_name, passive=True)
        count = declared.declaration_result.message_count
        return int(count or 0)

    async def listen(self, exchange: str) -> aio_pika.abc.AbstractQueue:
        """A private queue receiving everything `exchange` (a fanout) sends from now on."""
        queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange)
        return queue


@dataclass(frozen=True, slots=True)
class TrackerEnv:
    """What a tracker test needs besides the tracker: the bus, and the store to look into."""

    amqp_url: str
    store_url: str
    store: JobStore
    bus: Bus

    async def job(self, job_id: str) -> JobState | None:
        return (await self.store.load_jobs([job_id])).get(job_id)

    async def wait_for_job(
        self, job_id: str, what: str, condition: Callable[[JobState], bool]
    ) -> JobState:
        found: list[JobState] = []

        async def holds() -> bool:
            job = await self.job(job_id)
            found[:] = [job] if job is not None else []
            return job is not None and condition(job)

        await wait_until(holds, f"job {job_id} {what}")
        return found[0]


@asynccontextmanager
async def tracker_env(amqp_url: str, tmp_path: Path) -> AsyncIterator[TrackerEnv]:
    """A fresh SQLite file, the topology declared, and the tracker's queues empty
    (one vhost serves the whole session, so a previous test may have left messages)."""
    store_url = f"sqlite:///{tmp_path / 'jobs.db'}"
    await declare_topology(amqp_url)
    store = open_store(store_url)
    await store.open()
    try:
        async with Bus.connect(amqp_url) as bus:
            await bus.purge(
                TRACKER_INBOX.name,
                TRACKER_INBOX.dead_letter_name,
                *(queue.name for queue in RUN_QUEUES.values()),
            )
            yield TrackerEnv(amqp_url, store_url, store, bus)
    finally:
        await store.close()


def submit_command(job_id: str, tenant: str = "acme") -> SubmitJob:
    return SubmitJob(
        job_id=job_id,
        tenant=tenant,
        user_email="ops@acme.test",
        params={"product_ids": ["p1"]},
        submitted_at=T0,
    )


def started(job_id: str, total: int, job_type: JobType = JobType.ENRICHMENT) -> JobStarted:
    return JobStarted(job_id=job_id, tenant="acme", job_type=job_type, total_items=total, at=T0)


def outcomes(
    job_id: str,
    item_numbers: Iterable[int],
    *,
    fail_every: int = 0,
    job_type: JobType = JobType.ENRICHMENT,
) -> ItemOutcomes:
    """Final outcomes (with `started_at`) for the numbered items; every `fail_every`-th fails."""
    reported = []
    for n in item_numbers:
        failed = fail_every > 0 and n % fail_every == 0
        reported.append(
            ItemOutcome(
                item_id=f"item-{n:06d}",
                status=ItemStatus.FAILED if failed else ItemStatus.SUCCEEDED,
                at=T0 + timedelta(milliseconds=n + 1),
                started_at=T0 + timedelta(milliseconds=n),
                error=ItemError(category=ErrorCategory.TIMEOUT, message="slow") if failed else None,
            )
        )
    return ItemOutcomes(job_id=job_id, tenant="acme", job_type=job_type, outcomes=reported)
