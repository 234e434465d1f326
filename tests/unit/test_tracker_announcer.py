"""What the tracker announces on `jobs.updates` after a batch: every job it wrote, once."""

from job_tracker.announcer import jobs_updated
from jobs_shared.contracts import JobStatus, JobsUpdated, JobType
from jobs_shared.contracts.commands import SubmitJob
from jobs_shared.contracts.events import MAX_JOBS_PER_UPDATE, JobSubmitted
from jobs_shared.domain.fold import fold_batch
from jobs_shared.domain.state import JobState
from tests.support.tracker import T0


def submitted_jobs(count: int) -> list[JobState]:
    messages = [
        JobSubmitted(
            job_id=f"job-{n:04d}",
            job_type=JobType.ENRICHMENT,
            command=SubmitJob(tenant="acme", user_email="a@acme.test", submitted_at=T0),
        )
        for n in range(count)
    ]
    return list(fold_batch(messages, {}, {}, T0).jobs.values())


def test_a_batch_of_many_jobs_is_announced_in_as_few_messages_as_the_limit_allows() -> None:
    jobs = submitted_jobs(2 * MAX_JOBS_PER_UPDATE + 50)

    updates = jobs_updated(jobs, T0)

    assert [len(update.jobs) for update in updates] == [200, 200, 50]
    announced = [job.id for update in updates for job in update.jobs]
    assert announced == [job.id for job in jobs]


def test_each_announced_job_is_the_job_as_the_api_shows_it() -> None:
    (update,) = jobs_updated(submitted_jobs(3), T0)

    wire = JobsUpdated.model_validate_json(update.model_dump_json())

    assert [(job.id, job.status, job.tenant) for job in wire.jobs] == [
        (f"job-{n:04d}", JobStatus.PENDING, "acme") for n in range(3)
    ]


def test_a_batch_that_wrote_no_job_announces_nothing() -> None:
    assert jobs_updated([], T0) == []
