"""Starting, cancelling and retrying jobs: the gateway's commands, for one caller.

Who may cancel or retry: the job's submitter (the token's `sub` is the job's `user_id`,
or its `email` the job's `user_email`, which is all a job submitted over AMQP by
another service has) or a `jobs:admin` of the job's tenant. Anyone else of the tenant
gets 403; a job of another tenant is a 404, as everywhere.

Cancel answers once the cancel has taken effect, not merely once it is queued: the
`CancelJob` is confirmed by the broker (so it is in the tracker's inbox and in every
worker replica's cancel queue), then the store is polled until the tracker shows the
job `cancelled` (or ended otherwise: it finished first), then the answer waits out
`CANCEL_FENCE_SECONDS`, after which no worker replica can start another item of the
job (see `jobs_shared.worker.cancellation`). If the tracker is too slow to show it
within `CANCEL_WAIT_SECONDS`, the answer is still 202 with the job as it stands: the
cancel is queued and takes effect when the tracker gets to it (`status` turns
`cancelled`, `cancel_requested_at` is set); only an answer showing `cancelled` carries
the promise that no item starts afterwards.

Retry submits a new job of the same type over the original's failed items only: the
original's params plus `retry_items` (the failed item ids), which the worker runtime's
planner honours for every job type, and `retry_of` = the original. The tracker lists
the retry in the original's `retried_by`.
"""

import asyncio

from faststream.rabbit import RabbitBroker
from litestar.exceptions import ClientException, PermissionDeniedException

from gateway.auth import Principal
from gateway.domain.jobs.publishing import publish_command
from gateway.domain.jobs.requests import JobRequest, validated
from gateway.domain.jobs.services import JobService
from gateway.domain.jobs.submission import submit_job
from jobs_shared.contracts import (
    TERMINAL_JOB_STATUSES,
    CancelJob,
    ItemStatus,
    JobStatus,
    JobView,
    utc_now,
)
from jobs_shared.contracts.commands import CANCEL_FENCE_SECONDS, RETRY_ITEMS_PARAM
from jobs_shared.contracts.routing import cancel_key
from jobs_shared.domain.metrics import job_view
from jobs_shared.domain.state import JobState
from jobs_shared.store import JobStore

CANCEL_WAIT_SECONDS = 5.0
"""How long a cancel waits for the tracker to show the job cancelled."""
POLL_SECONDS = 0.02
MAX_RETRY_ITEMS = 10_000
"""Failed items one retry takes on (they travel in its params); more is better fixed at the
source and submitted again."""
FAILED_ITEMS_PAGE = 1_000


class JobCommands:
    def __init__(self, store: JobStore, broker: RabbitBroker, principal: Principal) -> None:
        self._store = store
        self._broker = broker
        self._principal = principal
        self._jobs = JobService(store, principal.tenant)

    async def start(self, request: JobRequest) -> JobView:
        params = validated(request)
        return await submit_job(
            self._broker,
            self._store,
            self._principal,
            request.type,
            params.model_dump(mode="json"),
            params.metadata(),
        )

    async def cancel(self, job_id: str) -> JobView:
        job = await self._commandable(job_id)
        if job.status in TERMINAL_JOB_STATUSES:
            raise _conflict(f"The job is {job.status.value} already.")
        cancel = CancelJob(
            job_id=job.id,
            tenant=job.tenant,
            job_type=job.type,
            requested_by=self._principal.email or self._principal.sub,
        )
        await publish_command(self._broker, cancel, cancel_key(job.type))
        job = await self._ended(job_id)
        if job.status == JobStatus.CANCELLED:
            await asyncio.sleep(CANCEL_FENCE_SECONDS)  # no replica starts an item after this
            job = await self._jobs.get(job_id)
        return job_view(job, utc_now())

    async def retry(self, job_id: str) -> JobView:
        job = await self._commandable(job_id)
        if job.status not in TERMINAL_JOB_STATUSES:
            raise _conflict("The job has not finished yet: retry its failed items once it has.")
        if not job.failed_items:
            raise _conflict("The job has no failed items to retry.")
        if job.failed_items > MAX_RETRY_ITEMS:
            raise _conflict(
                f"The job has {job.failed_items} failed items; a retry takes at most "
                f"{MAX_RETRY_ITEMS}. Fix the data at its source and submit it again."
            )
        params = {**job.params, RETRY_ITEMS_PARAM: await self._failed_item_ids(job_id)}
        return await submit_job(
            self._broker,
            self._store,
            self._principal,
            job.type,
            params,
            job.metadata,
            retry_of=job.id,
        )

    async def _commandable(self, job_id: str) -> JobState:
        job = await self._jobs.get(job_id)
        if not may_command(self._principal, job):
            raise PermissionDeniedException(
                "Only the job's submitter or a jobs:admin of its tenant may cancel or retry it."
            )
        return job

    async def _ended(self, job_id: str) -> JobState:
        """The job once the tracker shows it ended, or as it stands after the wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CANCEL_WAIT_SECONDS
        while True:
            job = await self._jobs.get(job_id)
            if job.status in TERMINAL_JOB_STATUSES or loop.time() >= deadline:
                return job
            await asyncio.sleep(POLL_SECONDS)

    async def _failed_item_ids(self, job_id: str) -> list[str]:
        failed: list[str] = []
        after: str | None = None
        while True:
            page = await self._store.list_items(
                job_id, [ItemStatus.FAILED], FAILED_ITEMS_PAGE, after
            )
            failed.extend(item.item_id for item in page)
            if len(page) < FAILED_ITEMS_PAGE:
                return failed
            after = page[-1].item_id


def may_command(principal: Principal, job: JobState) -> bool:
    """Whether `principal` may cancel or retry `job` (a job of its own tenant)."""
    if principal.is_admin or (job.user_id is not None and job.user_id == principal.sub):
        return True
    return bool(principal.email) and principal.email.casefold() == job.user_email.casefold()


def _conflict(message: str) -> ClientException:
    return ClientException(detail=message, status_code=409)
