"""Starting a job from the gateway: publish `SubmitJob` and answer with the pending Job.

Every way the API starts work (`POST /documents`, `POST /jobs`, retry) goes through
`submit_job`, so they all publish the same command and return the same document.

The tracker, not the gateway, writes jobs. So the answer is the job as the tracker
stored it when it folds the submit quickly (it usually does, within milliseconds);
otherwise it is the fold of the submit itself, computed here with the very same pure
fold the tracker will run, so the client always gets a real Job (`pending`) whose id
it can poll, even while the tracker is busy or restarting. A job read from the store is
answered as stored: with a fast worker it may already be `in_progress`.
"""

import asyncio
import uuid
from typing import Any

from faststream.rabbit import RabbitBroker

from gateway.auth import Principal
from gateway.domain.jobs.publishing import publish_command
from jobs_shared.contracts import JobSubmitted, JobType, JobView, SubmitJob, utc_now
from jobs_shared.contracts.routing import submit_key
from jobs_shared.domain.fold import fold_batch
from jobs_shared.domain.metrics import job_view
from jobs_shared.store import JobStore

STORED_WAIT_SECONDS = 2.0
"""How long to wait for the tracker's own document before answering with the local fold."""
STORED_POLL_SECONDS = 0.05


async def submit_job(
    broker: RabbitBroker,
    store: JobStore,
    principal: Principal,
    job_type: JobType,
    params: dict[str, Any],
    metadata: dict[str, Any],
    retry_of: str | None = None,
) -> JobView:
    """Publish a new job of `job_type` for `principal` (confirmed by the broker) and return it.

    Raises 503 if the broker does not confirm the command: nothing was started then, and
    the client may simply try again.
    """
    command = SubmitJob(
        job_id=uuid.uuid4().hex,
        tenant=principal.tenant,
        user_email=principal.email or principal.sub,
        user_id=principal.sub,
        params=params,
        metadata=metadata,
        retry_of=retry_of,
    )
    submitted = JobSubmitted(job_id=str(command.job_id), job_type=job_type, command=command)
    await publish_command(broker, command, submit_key(job_type))
    return await _stored_or_folded(store, submitted)


async def _stored_or_folded(store: JobStore, submitted: JobSubmitted) -> JobView:
    tenant = submitted.command.tenant
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STORED_WAIT_SECONDS
    while True:
        stored = await store.get_job(tenant, submitted.job_id)
        if stored is not None:
            return job_view(stored, utc_now())
        if loop.time() >= deadline:
            break
        await asyncio.sleep(STORED_POLL_SECONDS)
    now = utc_now()
    folded = fold_batch([submitted], {}, {}, now).jobs[submitted.job_id]
    return job_view(folded, now)
