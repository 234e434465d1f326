"""The numbers users read on a job (PRODUCT.md §2), computed from its state at a moment."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from jobs_shared.contracts import JobStatus, JobType
from jobs_shared.domain.fold import BUCKET_SECONDS
from jobs_shared.domain.metrics import job_view
from jobs_shared.domain.state import JobState

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def bucket(seconds: float) -> int:
    return int(at(seconds).timestamp()) // BUCKET_SECONDS


def running_job(**changes: object) -> JobState:
    job = JobState(
        id="job",
        type=JobType.CRAWL,
        tenant="acme",
        created_at=T0,
        updated_at=T0,
        status=JobStatus.IN_PROGRESS,
        started_at=T0,
        total_items=100,
        total_final=True,
    )
    return replace(job, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("processed", "failed", "skipped", "total", "progress"),
    [
        (0, 0, 0, 100, 0.0),
        (30, 15, 0, 100, 45.0),
        (1, 0, 0, 3, 33.3),
        (50, 50, 0, 100, 100.0),
        (0, 0, 0, 0, 0.0),  # no items yet: no division by zero
        (10, 0, 5, 20, 50.0),  # skipped items are not progress
    ],
)
def test_progress_is_processed_and_failed_over_total(
    processed: int, failed: int, skipped: int, total: int, progress: float
) -> None:
    job = running_job(
        processed_items=processed, failed_items=failed, skipped_items=skipped, total_items=total
    )
    assert job_view(job, at(60)).progress_pct == progress


def test_success_rate_is_unknown_before_the_first_item_ends() -> None:
    assert job_view(running_job(), at(60)).success_rate is None
    job = running_job(processed_items=3, failed_items=1)
    assert job_view(job, at(60)).success_rate == 75.0


def test_items_per_minute_is_the_recent_rate_while_running() -> None:
    # 50 items ended early on, 30 in the last minute: the recent rate says 30 a minute.
    job = running_job(
        processed_items=80, recent_ends={bucket(10): 50, bucket(95): 30}, last_item_at=at(95)
    )
    view = job_view(job, at(120))
    assert view.items_per_minute == 30.0
    assert view.eta_seconds == 40.0  # 20 left at 30 a minute


def test_items_per_minute_is_the_average_once_done() -> None:
    job = running_job(
        status=JobStatus.COMPLETED,
        processed_items=80,
        total_items=80,
        finished_at=at(120),
        recent_ends={bucket(10): 50, bucket(95): 30},
    )
    view = job_view(job, at(3600))
    assert view.items_per_minute == 40.0  # 80 items over 2 minutes
    assert view.eta_seconds is None


def test_the_rate_over_a_young_job_uses_its_age_not_a_full_minute() -> None:
    job = running_job(processed_items=10, recent_ends={bucket(5): 10})
    assert job_view(job, at(20)).items_per_minute == 30.0  # 10 items in 20 seconds


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"total_final": False, "recent_ends": {0: 5}}, id="total-not-final"),
        pytest.param({"recent_ends": {}}, id="nothing-ended-lately"),
        pytest.param({"status": JobStatus.PENDING, "started_at": None}, id="not-started"),
    ],
)
def test_eta_is_unknown_without_a_final_total_and_a_rate(changes: dict[str, object]) -> None:
    assert job_view(running_job(**changes), at(60)).eta_seconds is None


def test_duration_is_elapsed_while_running_and_fixed_once_finished() -> None:
    assert job_view(running_job(), at(90)).duration_seconds == 90.0
    pending = running_job(status=JobStatus.PENDING, started_at=None)
    assert job_view(pending, at(90)).duration_seconds is None
    done = running_job(status=JobStatus.FAILED, started_at=at(10), finished_at=at(70))
    assert job_view(done, at(5000)).duration_seconds == 60.0


def test_a_finished_job_shows_its_finish_time_and_a_running_one_does_not() -> None:
    assert job_view(running_job(finished_at=at(5)), at(60)).finished_at is None
    done = running_job(status=JobStatus.CANCELLED, finished_at=at(50))
    assert job_view(done, at(60)).finished_at == at(50)
