"""The job read side, bound to one tenant: isolation is enforced here, once, for every endpoint.

A job of another tenant is indistinguishable from a job that does not exist (404),
so ids cannot be probed across tenants. Item reads check the job's tenant first,
because the store's item queries are keyed by job only.
"""

from collections.abc import Collection

from litestar.exceptions import NotFoundException

from gateway.domain.jobs.schemas import ErrorGroup, Guidance, ItemPage, JobErrors, JobPage
from gateway.params import encode_item_cursor, encode_job_cursor
from jobs_shared.contracts import ItemStatus, utc_now
from jobs_shared.domain.metrics import item_view, job_view
from jobs_shared.domain.state import JobState
from jobs_shared.errors import GUIDANCE, ErrorCategory
from jobs_shared.store import JobCursor, JobQuery, JobStore

ERROR_EXAMPLES = 3


class JobService:
    def __init__(self, store: JobStore, tenant: str) -> None:
        self._store = store
        self._tenant = tenant

    async def get(self, job_id: str) -> JobState:
        job = await self._store.get_job(self._tenant, job_id)
        if job is None:
            raise NotFoundException(f"No job {job_id!r}.")
        return job

    async def list_jobs(self, query: JobQuery, limit: int, after: JobCursor | None) -> JobPage:
        # One row more than asked tells whether another page exists, without an empty last page.
        jobs = await self._store.list_jobs(self._tenant, query, limit + 1, after)
        page, more = jobs[:limit], len(jobs) > limit
        now = utc_now()
        last = page[-1] if more else None
        return JobPage(
            jobs=[job_view(job, now) for job in page],
            next_cursor=encode_job_cursor(JobCursor(last.created_at, last.id)) if last else None,
        )

    async def list_items(
        self, job_id: str, statuses: Collection[ItemStatus], limit: int, after: str | None
    ) -> ItemPage:
        await self.get(job_id)
        items = await self._store.list_items(job_id, statuses, limit + 1, after)
        page, more = items[:limit], len(items) > limit
        return ItemPage(
            items=[item_view(item) for item in page],
            next_cursor=encode_item_cursor(page[-1].item_id) if more else None,
        )

    async def errors(self, job_id: str) -> JobErrors:
        job = await self.get(job_id)
        ranked = sorted(job.error_counts.items(), key=lambda entry: (-entry[1], entry[0].value))
        groups = [
            ErrorGroup(
                **_guidance(category).model_dump(),
                count=count,
                examples=[
                    item_view(item)
                    for item in await self._store.failed_examples(job_id, category, ERROR_EXAMPLES)
                ],
            )
            for category, count in ranked
        ]
        return JobErrors(
            job_error=job.error,
            job_error_guidance=_guidance(job.error_category) if job.error_category else None,
            groups=groups,
        )


def _guidance(category: ErrorCategory) -> Guidance:
    guidance = GUIDANCE[category]
    return Guidance(category=category, cause=guidance.cause, fix=guidance.fix)
