"""The pure history aggregation behind `/stats`."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from jobs_shared.contracts import JobStatus, JobType
from jobs_shared.domain.state import JobState
from jobs_shared.domain.stats import (
    Bucket,
    JobStats,
    Percentiles,
    StatsBucket,
    TypePerformance,
    bucket_start,
    percentile,
)

DAY0 = datetime(2025, 3, 1, tzinfo=UTC)
DONE = JobStatus.COMPLETED


def job(
    job_id: str,
    created: datetime,
    status: JobStatus = DONE,
    job_type: JobType = JobType.ENRICHMENT,
    seconds: float | None = 60,
    succeeded: int = 0,
    failed: int = 0,
) -> JobState:
    """A job created at `created` that (if `seconds` is set) ran that long from its start."""
    started = created + timedelta(seconds=10) if seconds is not None else None
    finished = started + timedelta(seconds=seconds) if started and seconds is not None else None
    return JobState(
        id=job_id,
        type=job_type,
        tenant="t",
        created_at=created,
        updated_at=finished or created,
        status=status,
        started_at=started,
        finished_at=finished,
        total_items=succeeded + failed,
        total_final=True,
        processed_items=succeeded,
        failed_items=failed,
    )


def day_buckets(
    jobs: list[JobState], days: int = 1, types: frozenset[JobType] = frozenset()
) -> list[StatsBucket]:
    stats = JobStats(DAY0, DAY0 + timedelta(days=days), Bucket.DAY, types)
    for one in jobs:
        stats.add(one)
    return stats.series().buckets


def day(jobs: list[JobState], types: frozenset[JobType] = frozenset()) -> StatsBucket:
    (only,) = day_buckets(jobs, types=types)
    return only


def performance(bucket: StatsBucket, job_type: JobType) -> TypePerformance:
    return next(p for p in bucket.types if p.type == job_type)


@pytest.mark.parametrize(
    ("moment", "bucket", "start"),
    [
        (datetime(2025, 3, 1, 23, 59, tzinfo=UTC), Bucket.DAY, datetime(2025, 3, 1, tzinfo=UTC)),
        (
            datetime(2025, 3, 1, 23, 59, tzinfo=UTC),
            Bucket.HOUR,
            datetime(2025, 3, 1, 23, tzinfo=UTC),
        ),
        (
            datetime(2025, 3, 2, 0, 30, tzinfo=timezone(timedelta(hours=2))),
            Bucket.DAY,
            datetime(2025, 3, 1, tzinfo=UTC),
        ),
    ],
)
def test_buckets_start_on_utc_boundaries(moment: datetime, bucket: Bucket, start: datetime) -> None:
    assert bucket_start(moment, bucket) == start


def test_every_bucket_of_the_range_is_there_oldest_first_empty_ones_included() -> None:
    stats = JobStats(DAY0 + timedelta(hours=5), DAY0 + timedelta(days=2, hours=1), Bucket.DAY)
    buckets = stats.series().buckets

    assert [b.start for b in buckets] == [DAY0, DAY0 + timedelta(days=1), DAY0 + timedelta(days=2)]
    assert buckets[0] == StatsBucket(
        start=DAY0,
        created=dict.fromkeys(JobStatus, 0),
        success_rate=None,
        types=[TypePerformance(t, 0, None, None) for t in JobType],
    )


def test_hour_buckets() -> None:
    stats = JobStats(DAY0, DAY0 + timedelta(hours=3), Bucket.HOUR)
    stats.add(job("a", DAY0 + timedelta(hours=1, minutes=59)))
    created = [sum(b.created.values()) for b in stats.series().buckets]
    assert created == [0, 1, 0]


def test_jobs_are_counted_per_status_in_the_bucket_they_were_created_in() -> None:
    buckets = day_buckets(
        [
            job("a", DAY0, DONE),
            job("b", DAY0 + timedelta(hours=23), JobStatus.FAILED),
            job("c", DAY0 + timedelta(hours=1), JobStatus.PENDING, seconds=None),
            job("d", DAY0 + timedelta(days=1), JobStatus.IN_PROGRESS),
            job("e", DAY0 + timedelta(days=1), JobStatus.CANCELLED),
        ],
        days=2,
    )
    assert [{s: n for s, n in b.created.items() if n} for b in buckets] == [
        {DONE: 1, JobStatus.FAILED: 1, JobStatus.PENDING: 1},
        {JobStatus.IN_PROGRESS: 1, JobStatus.CANCELLED: 1},
    ]


def test_jobs_outside_the_range_or_of_other_types_are_ignored() -> None:
    bucket = day(
        [
            job("before", DAY0 - timedelta(microseconds=1)),
            job("at-end", DAY0 + timedelta(days=1)),  # `end` is exclusive
            job("crawl", DAY0, job_type=JobType.CRAWL),
            job("kept", DAY0),
        ],
        types=frozenset({JobType.ENRICHMENT}),
    )
    assert bucket.created[DONE] == 1
    assert [p.type for p in bucket.types] == [JobType.ENRICHMENT]


def test_success_rate_is_succeeded_over_ended_items_of_the_buckets_jobs() -> None:
    assert (
        day([job("a", DAY0, succeeded=3, failed=1), job("b", DAY0, failed=4)]).success_rate == 37.5
    )
    assert day([job("a", DAY0, JobStatus.IN_PROGRESS, succeeded=2)]).success_rate == 100.0
    assert day([job("a", DAY0, JobStatus.PENDING, seconds=None)]).success_rate is None


def test_performance_percentiles_of_finished_jobs_per_type() -> None:
    bucket = day(
        [
            job("a", DAY0, seconds=60, succeeded=10),  # 10 items/min
            job("b", DAY0, seconds=120, succeeded=10),  # 5 items/min
            job("c", DAY0, seconds=30, succeeded=4, failed=1),  # 10 items/min
            job("d", DAY0, JobStatus.FAILED, seconds=5),  # no items: a duration, no rate
            job("running", DAY0, JobStatus.IN_PROGRESS, seconds=999, succeeded=1),
            job("crawl", DAY0, seconds=90, succeeded=3, job_type=JobType.CRAWL),
        ]
    )
    enrichment = performance(bucket, JobType.ENRICHMENT)

    assert enrichment == TypePerformance(
        type=JobType.ENRICHMENT,
        finished=4,
        duration_seconds=Percentiles(p50=45.0, p95=111.0),  # of 5, 30, 60, 120
        items_per_minute=Percentiles(p50=10.0, p95=10.0),  # of 5, 10, 10
    )
    assert performance(bucket, JobType.CRAWL) == TypePerformance(
        JobType.CRAWL, 1, Percentiles(90.0, 90.0), Percentiles(2.0, 2.0)
    )
    assert performance(bucket, JobType.EXPORT) == TypePerformance(JobType.EXPORT, 0, None, None)


def test_a_job_that_failed_before_starting_lasts_from_its_creation() -> None:
    failed = job("a", DAY0, JobStatus.FAILED, seconds=None)
    failed.finished_at = failed.updated_at = DAY0 + timedelta(seconds=5)
    assert performance(day([failed]), JobType.ENRICHMENT).duration_seconds == Percentiles(5.0, 5.0)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([7.0], 0.5, 7.0),
        ([7.0], 0.95, 7.0),
        ([1.0, 2.0], 0.5, 1.5),
        ([4.0, 1.0, 3.0, 2.0], 0.5, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 0.95, 3.85),
        ([float(n) for n in range(1, 101)], 0.95, 95.05),
        ([1.0, 2.0, 3.0], 0.0, 1.0),
        ([1.0, 2.0, 3.0], 1.0, 3.0),
    ],
)
def test_percentile_interpolates_linearly_between_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)
