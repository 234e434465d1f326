"""What the tracker tells the rest of the system after it committed a batch.

Browsers learn about a job through `JobsUpdated` on `jobs.updates` (the gateway pushes
each job on); workers learn they have work through `RunJob` on `jobs.commands` with key
`<type>.run`. Both go out only after the batch is saved, and before its messages are
acked: if the tracker dies in between, the redelivered batch folds to the same state
and a still-pending job is dispatched again (workers dedupe runs by job id).
"""

import asyncio
import uuid
from collections.abc import Awaitable, Iterable, Mapping
from datetime import datetime

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractExchange
from faststream.rabbit import RabbitBroker
from faststream.rabbit.publisher import RabbitPublisher

from jobs_shared.contracts import JobsUpdated, JobType, RunJob
from jobs_shared.contracts.events import MAX_JOBS_PER_UPDATE
from jobs_shared.contracts.routing import run_key
from jobs_shared.domain.fold import FoldResult
from jobs_shared.domain.metrics import job_view
from jobs_shared.domain.state import JobState
from jobs_shared.store.keys import chunks
from jobs_shared.topology import COMMANDS, UPDATES


class Announcer:
    """Publishes the changed jobs in `JobsUpdated` messages and one `RunJob` per job to
    dispatch."""

    def __init__(self, broker: RabbitBroker, app_id: str) -> None:
        self._broker = broker
        self._app_id = app_id
        self._updates_target: AbstractExchange | None = None
        # Declared as FastStream publishers so the AsyncAPI document shows them. `JobsUpdated`
        # itself goes out straight to the exchange (`_updates_exchange`), in the same form.
        self._updates = broker.publisher(
            exchange=UPDATES,
            schema=JobsUpdated,
            mandatory=False,  # nobody listening (no gateway running) is fine
            title="jobs.updates:JobsUpdated",
            description="The jobs the tracker just wrote, as the API shows them: each "
            f"changed job once per committed batch, up to {MAX_JOBS_PER_UPDATE} a message.",
        )
        self._runs: Mapping[JobType, RabbitPublisher] = {
            job_type: broker.publisher(
                exchange=COMMANDS,
                routing_key=run_key(job_type),
                schema=RunJob,
                persist=True,
                title=f"jobs.commands:{run_key(job_type)}",
                description=f"Hands a submitted {job_type.value} job to its worker. "
                "Sent again if the submit is redelivered while the job is still pending.",
            )
            for job_type in JobType
        }

    async def announce(self, result: FoldResult, now: datetime) -> None:
        """Publish the batch's notifications concurrently (their broker confirms overlap)."""
        sends: list[Awaitable[object]] = [
            self._runs[job.type].publish(run_command(job))
            for job in (result.jobs[job_id] for job_id in result.dispatch)
        ]
        if result.jobs:
            updates = await self._updates_exchange()
            sends.extend(
                updates.publish(self._message(update, now), routing_key="", mandatory=False)
                for update in jobs_updated(result.jobs.values(), now)
            )
        await asyncio.gather(*sends)

    async def _updates_exchange(self) -> AbstractExchange:
        """`jobs.updates` on the broker's channel (with publisher confirms), looked up once.

        Going past the publisher's per-message machinery straight to the exchange costs a
        third less per message.
        """
        if self._updates_target is None:
            self._updates_target = await self._broker.declare_exchange(UPDATES)
        return self._updates_target

    def _message(self, update: JobsUpdated, now: datetime) -> Message:
        """`update` as the `jobs.updates` publisher would send it (JSON, not persistent)."""
        return Message(
            update.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=DeliveryMode.NOT_PERSISTENT,
            correlation_id=uuid.uuid4().hex,
            timestamp=now,
            app_id=self._app_id,
        )


def jobs_updated(jobs: Iterable[JobState], now: datetime) -> list[JobsUpdated]:
    """The jobs a batch wrote, as the API shows them at `now`, each once, in as few
    `JobsUpdated` messages as their size limit allows."""
    return [
        JobsUpdated(jobs=[job_view(job, now) for job in some])
        for some in chunks(jobs, MAX_JOBS_PER_UPDATE)
    ]


def run_command(job: JobState) -> RunJob:
    return RunJob(
        job_id=job.id,
        tenant=job.tenant,
        job_type=job.type,
        user_email=job.user_email,
        params=job.params,
        metadata=job.metadata,
        retry_of=job.retry_of,
        created_at=job.created_at,
    )
