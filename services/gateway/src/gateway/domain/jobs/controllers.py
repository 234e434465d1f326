"""`/jobs`: the list with its filters, one job, its items, its errors; start, cancel, retry.

Handlers only translate HTTP; reads are in `services.py`, commands in `commands.py`.
"""

from http import HTTPStatus
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from gateway.dependencies import Commands, Jobs
from gateway.domain.jobs.requests import JobRequest
from gateway.domain.jobs.schemas import ItemPage, JobErrors, JobPage
from gateway.errors import documented_errors
from gateway.params import decode_item_cursor, decode_job_cursor, job_query
from jobs_shared.contracts import ItemStatus, JobStatus, JobType, JobView, utc_now
from jobs_shared.domain.metrics import job_view

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size, 1 to 200.")]
Cursor = Annotated[
    str | None, QueryParameter(description="The `next_cursor` of the previous page.")
]
LIST_ERRORS = documented_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
JOB_ERRORS = {**LIST_ERRORS, **documented_errors(HTTPStatus.NOT_FOUND)}
START_ERRORS = {**LIST_ERRORS, **documented_errors(HTTPStatus.SERVICE_UNAVAILABLE)}
COMMAND_ERRORS = {
    **START_ERRORS,
    **documented_errors(HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT),
}


class JobController(Controller):
    path = "/jobs"
    tags = ("jobs",)

    @get("/", summary="List jobs, newest first", responses=LIST_ERRORS)
    async def list_jobs(
        self,
        jobs: Jobs,
        types: Annotated[
            list[JobType] | None, QueryParameter(name="type", description="Repeatable.")
        ] = None,
        statuses: Annotated[
            list[JobStatus] | None, QueryParameter(name="status", description="Repeatable.")
        ] = None,
        user: Annotated[str | None, QueryParameter(description="Submitter's email.")] = None,
        created_from: Annotated[
            str | None, QueryParameter(description="ISO 8601, inclusive; UTC if no offset.")
        ] = None,
        created_to: Annotated[
            str | None, QueryParameter(description="ISO 8601, exclusive; UTC if no offset.")
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> JobPage:
        query = job_query(types or (), statuses or (), user, created_from, created_to)
        after = decode_job_cursor(cursor) if cursor else None
        return await jobs.list_jobs(query, limit, after)

    @get("/{job_id:str}", summary="One job", responses=JOB_ERRORS)
    async def get_job(self, jobs: Jobs, job_id: FromPath[str]) -> JobView:
        return job_view(await jobs.get(job_id), utc_now())

    @get("/{job_id:str}/items", summary="A job's items, by item id", responses=JOB_ERRORS)
    async def list_items(
        self,
        jobs: Jobs,
        job_id: FromPath[str],
        statuses: Annotated[
            list[ItemStatus] | None, QueryParameter(name="status", description="Repeatable.")
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> ItemPage:
        after = decode_item_cursor(cursor) if cursor else None
        return await jobs.list_items(job_id, frozenset(statuses or ()), limit, after)

    @get(
        "/{job_id:str}/errors",
        summary="A job's errors, grouped by category with cause and fix",
        responses=JOB_ERRORS,
    )
    async def job_errors(self, jobs: Jobs, job_id: FromPath[str]) -> JobErrors:
        return await jobs.errors(job_id)

    @post(
        "/",
        summary="Start an enrichment, crawl or export job",
        description="Answers with the new job, `pending`. Document ingestion jobs start "
        "from an upload instead (`POST /documents`).",
        status_code=HTTPStatus.ACCEPTED,
        responses=START_ERRORS,
    )
    async def start_job(self, commands: Commands, data: JSONBody[JobRequest]) -> JobView:
        return await commands.start(data)

    @post(
        "/{job_id:str}/cancel",
        summary="Cancel a job: no new item starts, processed items are kept",
        description="Answers once the job shows `cancelled`: from then on no item of it "
        "starts. If that takes longer than a few seconds, the answer is the job as it "
        "stands and the cancel takes effect shortly. 409 if the job has ended already.",
        status_code=HTTPStatus.ACCEPTED,
        responses=COMMAND_ERRORS,
    )
    async def cancel_job(self, commands: Commands, job_id: FromPath[str]) -> JobView:
        return await commands.cancel(job_id)

    @post(
        "/{job_id:str}/retry",
        summary="Retry a finished job's failed items as a new job",
        description="The new job has the original's type and params plus `retry_items` "
        "(the failed item ids) and `retry_of`; the original lists it in `retried_by`. "
        "409 if the job has not finished or has no failed items.",
        status_code=HTTPStatus.CREATED,
        responses=COMMAND_ERRORS,
    )
    async def retry_job(self, commands: Commands, job_id: FromPath[str]) -> JobView:
        return await commands.retry(job_id)
