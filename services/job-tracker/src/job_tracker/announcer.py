"""What the tracker tells the rest of the system after it committed a batch.

Browsers learn about a job through `JobUpdated` on `jobs.updates` (the gateway pushes it
on); workers learn they have work through `RunJob` on `jobs.commands` with key
`<type>.run`. Both go out only after the batch is saved, and before its messages are
acked: if the tracker dies in between, the redelivered batch folds to the same state
and a still-pending job is dispatched again (workers dedupe runs by job id).
"""

import asyncio
from collections.abc import Mapping
from datetime import datetime

from faststream.rabbit import RabbitBroker
from faststream.rabbit.publisher import RabbitPublisher

from jobs_shared.contracts import JobType, JobUpdated, RunJob
from jobs_shared.contracts.routing import run_key
from jobs_shared.domain.fold import FoldResult
from jobs_shared.domain.metrics import job_view
from jobs_shared.domain.state import JobState
from jobs_shared.topology import COMMANDS, UPDATES


class Announcer:
    """Publishes one `JobUpdated` per changed job and one `RunJob` per job to dispatch."""

    def __init__(self, broker: RabbitBroker) -> None:
        # Declared as FastStream publishers so the AsyncAPI document shows them.
        self._updates = broker.publisher(
            exchange=UPDATES,
            schema=JobUpdated,
            mandatory=False,  # nobody listening (no gateway running) is fine
            title="jobs.updates:JobUpdated",
            description="A job the tracker just wrote, as the API shows it; "
            "one per changed job per committed batch.",
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
        sends = [
            self._runs[job.type].publish(run_command(job))
            for job in (result.jobs[job_id] for job_id in result.dispatch)
        ]
        sends.extend(
            self._updates.publish(JobUpdated(job=job_view(job, now)))
            for job in result.jobs.values()
        )
        await asyncio.gather(*sends)


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
