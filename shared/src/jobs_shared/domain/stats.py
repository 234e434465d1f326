"""Job history statistics for the charts: jobs created per bucket and status, success rate,
and per type the p50/p95 duration and throughput of finished jobs.

Pure: no I/O and no clock. Jobs are fed one at a time (`JobStats.add`), so a caller can
page a long history out of the store without holding every job in memory; only the
numbers the percentiles need are kept.

Every job counts in the bucket of its `created_at`, so a bar never moves once its
jobs are created (a job created on Monday and finished on Tuesday stays on Monday).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from jobs_shared.contracts import TERMINAL_JOB_STATUSES, JobStatus, JobType
from jobs_shared.domain.metrics import duration_seconds, items_per_minute
from jobs_shared.domain.state import JobState


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"


BUCKET_SIZE: dict[Bucket, timedelta] = {
    Bucket.HOUR: timedelta(hours=1),
    Bucket.DAY: timedelta(days=1),
}
MAX_RANGE: dict[Bucket, timedelta] = {
    Bucket.HOUR: timedelta(days=31),
    Bucket.DAY: timedelta(days=400),
}
"""The longest range one request may ask for: bounds the response size and the scan."""


def bucket_start(moment: datetime, bucket: Bucket) -> datetime:
    """The start (UTC) of the bucket `moment` falls in."""
    utc = moment.astimezone(UTC)
    if bucket == Bucket.DAY:
        return utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return utc.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50: float
    p95: float


@dataclass(frozen=True, slots=True)
class TypePerformance:
    """How the finished jobs of one type, created in one bucket, performed."""

    type: JobType
    finished: int
    duration_seconds: Percentiles | None
    items_per_minute: Percentiles | None


@dataclass(frozen=True, slots=True)
class StatsBucket:
    start: datetime
    created: dict[JobStatus, int]
    """Jobs created in this bucket, by their current status (every status, zeros included)."""
    success_rate: float | None
    """Succeeded over ended (succeeded + failed) items of those jobs, in %; null if none ended.
    The same ratio as a job's `success_rate`, taken over the bucket's jobs together."""
    types: list[TypePerformance]


@dataclass(frozen=True, slots=True)
class StatsSeries:
    start: datetime
    end: datetime
    bucket: Bucket
    buckets: list[StatsBucket]
    """Every bucket from `start` to `end`, empty ones included, oldest first."""


@dataclass(slots=True)
class _Tally:
    created: dict[JobStatus, int] = field(default_factory=lambda: dict.fromkeys(JobStatus, 0))
    succeeded_items: int = 0
    failed_items: int = 0
    durations: defaultdict[JobType, list[float]] = field(default_factory=lambda: defaultdict(list))
    rates: defaultdict[JobType, list[float]] = field(default_factory=lambda: defaultdict(list))
    finished: defaultdict[JobType, int] = field(default_factory=lambda: defaultdict(int))


class JobStats:
    """Accumulates jobs created in [`start`, `end`) into buckets; `series()` gives the result.

    `start` is rounded down to its bucket's start. `types` are the types reported per
    bucket (all types when empty); jobs of other types are ignored.
    """

    def __init__(
        self,
        start: datetime,
        end: datetime,
        bucket: Bucket,
        types: frozenset[JobType] = frozenset(),
    ) -> None:
        self._start = bucket_start(start, bucket)
        self._end = end.astimezone(UTC)
        self._bucket = bucket
        self._types = [t for t in JobType if not types or t in types]
        self._tallies: dict[datetime, _Tally] = defaultdict(_Tally)

    def add(self, job: JobState) -> None:
        if not self._start <= job.created_at < self._end or job.type not in self._types:
            return
        tally = self._tallies[bucket_start(job.created_at, self._bucket)]
        tally.created[job.status] += 1
        tally.succeeded_items += job.processed_items
        tally.failed_items += job.failed_items
        if job.status not in TERMINAL_JOB_STATUSES:
            return
        tally.finished[job.type] += 1
        # A finished job's duration and rate do not depend on the clock: `now` is unused.
        duration = duration_seconds(job, job.updated_at)
        if duration is None:
            return
        tally.durations[job.type].append(duration)
        rate = items_per_minute(job, job.updated_at, duration)
        if rate is not None:
            tally.rates[job.type].append(rate)

    def series(self) -> StatsSeries:
        size = BUCKET_SIZE[self._bucket]
        buckets: list[StatsBucket] = []
        start = self._start
        while start < self._end:
            buckets.append(self._bucket_of(start, self._tallies.get(start) or _Tally()))
            start += size
        return StatsSeries(start=self._start, end=self._end, bucket=self._bucket, buckets=buckets)

    def _bucket_of(self, start: datetime, tally: _Tally) -> StatsBucket:
        ended = tally.succeeded_items + tally.failed_items
        return StatsBucket(
            start=start,
            created=dict(tally.created),
            success_rate=round(tally.succeeded_items / ended * 100, 1) if ended else None,
            types=[
                TypePerformance(
                    type=job_type,
                    finished=tally.finished[job_type],
                    duration_seconds=_percentiles(tally.durations[job_type], digits=3),
                    items_per_minute=_percentiles(tally.rates[job_type], digits=1),
                )
                for job_type in self._types
            ],
        )


def percentile(values: list[float], q: float) -> float:
    """The `q`-quantile (0..1) of non-empty `values`, interpolating linearly between ranks
    (the common "linear" method, so p50 of an even count is the mean of the middle two)."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _percentiles(values: list[float], digits: int) -> Percentiles | None:
    if not values:
        return None
    return Percentiles(
        p50=round(percentile(values, 0.5), digits), p95=round(percentile(values, 0.95), digits)
    )
