"""The worker runtime: one broker, three subscribers, and the machinery every worker shares.

- `<service>.runs` (`RunJob`): plan the job (`planning.py`).
- `<service>.items` (`WorkChunk`): process items (`chunks.py`), competing with every
  other replica for chunks.
- `<service>.cancels.<worker id>` (`CancelJob`, exclusive): learn cancels (`cancellation.py`).

Acks: a `RunJob` is acked once its plan is published (or found done already), a chunk
once all its outcomes are confirmed and its unfinished items handed back. A failure of
the runtime itself (the broker or the store went away, or a bug) nacks the message
for redelivery; the queue's delivery limit dead-letters a message that keeps failing,
and FastStream logs the error: nothing a message does can crash the process. A
message that cannot be decoded goes to its dead-letter queue with the reason.

Lifecycle: `open` (store, worker, broker, topology, background tasks), the broker
starts the subscribers, `drain` on shutdown (see `drain.py`), the broker stops, `close`.
`start`/`stop` do it all, for embedding and tests; `run_worker` hands it to FastStream.
"""

import asyncio
import logging
import os
import socket
import uuid
from typing import TypeVar

from aio_pika.abc import AbstractIncomingMessage
from faststream import AckPolicy
from faststream.exceptions import NackMessage
from faststream.rabbit import Channel, RabbitBroker, RabbitMessage
from pydantic import ValidationError

from jobs_shared.contracts import RunJob, WorkChunk, WorkerHeartbeat
from jobs_shared.dead_letters import dead_letter, explain
from jobs_shared.store import JobStore, open_store
from jobs_shared.topology import (
    ITEM_QUEUES,
    RUN_QUEUES,
    WORKER_SERVICES,
    ConsumerQueue,
    declare_topology,
)
from jobs_shared.worker.amqp import WorkerBus, earlier_deliveries, raw_body
from jobs_shared.worker.base import Worker
from jobs_shared.worker.cancellation import Cancellations, subscribe_cancels
from jobs_shared.worker.chunks import ChunkRunner
from jobs_shared.worker.drain import Drain
from jobs_shared.worker.heartbeat import Activity, Heartbeat
from jobs_shared.worker.outcomes import OutcomePublisher
from jobs_shared.worker.planning import Planner
from jobs_shared.worker.settings import WorkerSettings

log = logging.getLogger(__name__)

Decoded = TypeVar("Decoded", RunJob, WorkChunk)

HANDBACK_SECONDS = 10.0
"""After the grace period: time to publish hand-backs and outcomes before the broker closes."""


class WorkerRuntime:
    def __init__(
        self, worker: Worker, settings: WorkerSettings, store: JobStore | None = None
    ) -> None:
        self.worker = worker
        self.settings = settings
        self.job_type = worker.job_type
        self.service = WORKER_SERVICES[self.job_type]
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.broker = RabbitBroker(
            settings.amqp_url,
            app_id=self.service,
            logger=logging.getLogger(self.service),
            graceful_timeout=settings.worker_grace_seconds + HANDBACK_SECONDS,
            log_level=logging.DEBUG,  # FastStream's per-message logs: too many at INFO
            default_channel=Channel(on_return_raises=True),
            description=f"The {self.service} worker: runs {self.job_type.value} jobs.",
        )
        self.store = store or open_store(settings.store_url)
        self.drain_state = Drain()
        self.cancellations = Cancellations(self.store)
        self.activity = Activity()
        self.bus = WorkerBus(self.broker, self.job_type)
        self.outcomes = OutcomePublisher(
            self.bus.outcomes,
            max_batch=settings.worker_outcome_batch,
            linger=settings.worker_outcome_linger_ms / 1000,
        )
        self.heartbeat = Heartbeat(
            self.bus.heartbeat, self._heartbeat, self.activity, settings.worker_heartbeat_seconds
        )
        self.planner = Planner(
            worker,
            self.store,
            self.bus,
            self.cancellations,
            self.activity,
            chunk_size=settings.worker_chunk_size,
            linger=settings.worker_plan_linger_seconds,
        )
        self.chunks = ChunkRunner(
            worker,
            self.outcomes,
            self.cancellations,
            self.activity,
            self.drain_state,
            concurrency=settings.worker_concurrency,
            item_timeout=settings.worker_item_timeout_seconds,
            retry_policy=settings.retry_policy,
        )
        self._subscribe()

    # --- lifecycle -------------------------------------------------------------------
    async def open(self) -> None:
        await self.store.open()
        await self.worker.open()
        await declare_topology(self.settings.amqp_url)
        await self.broker.connect()
        await self.outcomes.start()
        await self.heartbeat.start()

    async def drain(self) -> None:
        """Take no more work; let in-flight items finish within the grace; hand back the rest."""
        log.info("draining: %g s for in-flight items", self.settings.worker_grace_seconds)
        self.drain_state.begin(self.settings.worker_grace_seconds)
        # Each stop cancels the consumer after its in-flight handlers returned.
        await asyncio.gather(self._runs.stop(), self._items.stop())
        await self.outcomes.close()
        await self.heartbeat.stop()

    async def close(self) -> None:
        await self.worker.close()
        await self.store.close()

    async def start(self) -> None:
        await self.open()
        await self.broker.start()

    async def stop(self) -> None:
        await self.drain()
        await self.broker.stop()
        await self.close()

    def readiness_problem(self) -> str | None:
        return "draining: finishing in-flight items" if self.drain_state.begun else None

    # --- handlers --------------------------------------------------------------------
    def _subscribe(self) -> None:
        runs, items = RUN_QUEUES[self.job_type], ITEM_QUEUES[self.job_type]
        self._runs = self.broker.subscriber(
            runs.queue(),
            channel=Channel(prefetch_count=self.settings.worker_plan_concurrency),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=raw_body,
            title=runs.name,
            description=f"RunJob: plan a {self.job_type.value} job into chunks of items.",
        )
        self._runs(self._on_run)
        self._items = self.broker.subscriber(
            items.queue(),
            channel=Channel(prefetch_count=self.settings.worker_chunk_prefetch),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=raw_body,
            title=items.name,
            description="WorkChunk: items to process, shared by every replica.",
        )
        self._items(self._on_chunk)
        subscribe_cancels(
            self.broker,
            self.job_type,
            f"{self.service}.cancels.{self.worker_id}",
            self.cancellations,
        )

    async def _on_run(self, body: bytes, message: RabbitMessage) -> None:
        raw: AbstractIncomingMessage = message.raw_message
        job = await self._decode(RunJob, body, raw, RUN_QUEUES[self.job_type])
        if job is None:
            return
        planning = asyncio.create_task(self.planner.run(job))
        if await self.drain_state.settle({planning}):
            log.info("job %s: planning did not finish before shutdown; requeued", job.job_id)
            raise NackMessage()
        if (error := planning.exception()) is not None:
            log.error("job %s: planning failed; requeued", job.job_id, exc_info=error)
            raise NackMessage()

    async def _on_chunk(self, body: bytes, message: RabbitMessage) -> None:
        raw: AbstractIncomingMessage = message.raw_message
        chunk = await self._decode(WorkChunk, body, raw, ITEM_QUEUES[self.job_type])
        if chunk is None:
            return
        deliveries = earlier_deliveries(raw)
        try:
            handback = await self.chunks.run(chunk, deliveries)
            if handback:
                handed_back = chunk.model_copy(
                    update={
                        "items": handback,
                        "previous_deliveries": chunk.previous_deliveries + deliveries + 1,
                    }
                )
                await self.bus.chunk(handed_back.model_dump_json().encode())
                log.info(
                    "job %s chunk %d: handed back %d items",
                    chunk.job_id,
                    chunk.chunk,
                    len(handback),
                )
        except Exception as error:
            log.error("job %s chunk %d failed; requeued", chunk.job_id, chunk.chunk, exc_info=error)
            raise NackMessage() from error

    async def _decode(
        self, model: type[Decoded], body: bytes, raw: AbstractIncomingMessage, queue: ConsumerQueue
    ) -> Decoded | None:
        """The message as `model`, or None after dead-lettering it (then it is acked)."""
        try:
            decoded = model.model_validate_json(body)
        except ValidationError as error:
            reason = explain(error)
        else:
            if decoded.job_type == self.job_type:
                return decoded
            reason = f"a {decoded.job_type.value} job on the {self.job_type.value} worker's queue"
        log.warning("dead-lettering an unusable message from %s: %s", queue.name, reason)
        await dead_letter(self.broker, queue, raw, reason)
        return None

    def _heartbeat(self, jobs: dict[str, int]) -> WorkerHeartbeat:
        return WorkerHeartbeat(
            worker_id=self.worker_id, service=self.service, job_type=self.job_type, jobs=jobs
        )
