"""Page a tenant's jobs for a time range out of the store into the pure aggregation."""

from datetime import datetime

from jobs_shared.contracts import JobType
from jobs_shared.domain.stats import Bucket, JobStats, StatsSeries, bucket_start
from jobs_shared.store import JobCursor, JobQuery, JobStore

PAGE_SIZE = 500


async def job_stats(
    store: JobStore,
    tenant: str,
    start: datetime,
    end: datetime,
    bucket: Bucket,
    types: frozenset[JobType],
) -> StatsSeries:
    stats = JobStats(start, end, bucket, types)
    query = JobQuery(types=types, created_from=bucket_start(start, bucket), created_to=end)
    after: JobCursor | None = None
    while True:
        page = await store.list_jobs(tenant, query, PAGE_SIZE, after)
        for job in page:
            stats.add(job)
        if len(page) < PAGE_SIZE:
            return stats.series()
        after = JobCursor(page[-1].created_at, page[-1].id)
