"""The numbers users read on a job, derived from its state at a given moment.

Rates and the ETA depend on the clock, so they are computed when a job is read
or pushed, never stored.
"""

from datetime import datetime

from jobs_shared.contracts import TERMINAL_JOB_STATUSES, ItemView, JobView
from jobs_shared.contracts.views import ItemErrorView
from jobs_shared.domain.fold import BUCKET_SECONDS
from jobs_shared.domain.state import ItemState, JobState

RECENT_RATE_WINDOW_SECONDS = 60


def job_view(job: JobState, now: datetime) -> JobView:
    finished = job.status in TERMINAL_JOB_STATUSES
    settled = job.processed_items + job.failed_items
    duration = duration_seconds(job, now)
    rate = items_per_minute(job, now, duration)
    return JobView(
        id=job.id,
        type=job.type,
        status=job.status,
        tenant=job.tenant,
        user_email=job.user_email,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at if finished else None,
        updated_at=job.updated_at,
        total_items=job.total_items,
        processed_items=job.processed_items,
        failed_items=job.failed_items,
        skipped_items=job.skipped_items,
        progress_pct=round(min(100.0, settled / job.total_items * 100), 1)
        if job.total_items
        else 0.0,
        success_rate=round(job.processed_items / settled * 100, 1) if settled else None,
        items_per_minute=None if rate is None else round(rate, 1),
        eta_seconds=None if finished else eta_seconds(job, rate),
        duration_seconds=None if duration is None else round(duration, 3),
        error=job.error,
        error_counts=dict(job.error_counts),
        params=job.params,
        metadata=job.metadata,
        retry_of=job.retry_of,
        retried_by=list(job.retried_by),
        cancel_requested_at=job.cancel_requested_at,
    )


def duration_seconds(job: JobState, now: datetime) -> float | None:
    """Elapsed while running; finished minus started once the job has ended."""
    started = job.started_at
    if job.status in TERMINAL_JOB_STATUSES:
        end = job.finished_at or job.updated_at
        return max(0.0, (end - (started or job.created_at)).total_seconds())
    if started is None:
        return None
    return max(0.0, (now - started).total_seconds())


def items_per_minute(job: JobState, now: datetime, duration: float | None) -> float | None:
    """The recent rate (last minute) while running; the average over the job once done."""
    if duration is None:
        return None
    if job.status in TERMINAL_JOB_STATUSES:
        ended = job.ended_items
        return ended / (duration / 60) if duration > 0 and ended else None
    window = min(float(RECENT_RATE_WINDOW_SECONDS), duration)
    if window <= 0:
        return None
    since_bucket = (now.timestamp() - RECENT_RATE_WINDOW_SECONDS) // BUCKET_SECONDS
    recent = sum(n for bucket, n in job.recent_ends.items() if bucket >= since_bucket)
    return recent / (window / 60)


def eta_seconds(job: JobState, rate_per_minute: float | None) -> float | None:
    """Remaining items over the recent rate; unknown until the total is final and items move."""
    if not job.total_final or not rate_per_minute:
        return None
    remaining = max(0, job.total_items - job.ended_items)
    return round(remaining / (rate_per_minute / 60), 1)


def item_view(item: ItemState) -> ItemView:
    error = (
        ItemErrorView(category=item.error_category, message=item.error_message or "")
        if item.error_category
        else None
    )
    return ItemView(
        item_id=item.item_id,
        label=item.label,
        status=item.status,
        error=error,
        attempts=item.attempts,
        started_at=item.started_at,
        finished_at=item.finished_at,
        result=item.result,
    )
