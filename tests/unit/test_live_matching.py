"""`JobQuery.matches`: the list filters as a pure predicate, the same on a stored job and a
pushed one (the store contract suite holds both adapters to it)."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from jobs_shared.contracts import JobStatus, JobType, JobView
from jobs_shared.domain.metrics import job_view
from jobs_shared.domain.state import JobState
from jobs_shared.store import JobQuery

T0 = datetime(2030, 1, 1, tzinfo=UTC)
CRAWL, EXPORT, ENRICH = JobType.CRAWL, JobType.EXPORT, JobType.ENRICHMENT
RUNNING, DONE, FAILED = JobStatus.IN_PROGRESS, JobStatus.COMPLETED, JobStatus.FAILED


def state(
    job_type: JobType = CRAWL,
    status: JobStatus = RUNNING,
    email: str = "ann@acme.test",
    created_at: datetime = T0,
) -> JobState:
    return JobState(
        id="job-1",
        type=job_type,
        tenant="acme",
        created_at=created_at,
        updated_at=created_at,
        status=status,
        user_email=email,
    )


def view(**changes: Any) -> JobView:
    return job_view(state(**changes), T0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (JobQuery(), True),
        (JobQuery(types=frozenset({CRAWL})), True),
        (JobQuery(types=frozenset({EXPORT, ENRICH})), False),
        (JobQuery(types=frozenset({EXPORT, CRAWL})), True),
        (JobQuery(statuses=frozenset({RUNNING})), True),
        (JobQuery(statuses=frozenset({DONE, FAILED})), False),
        (JobQuery(user_email="ann@acme.test"), True),
        (JobQuery(user_email="ANN@acme.test"), False),  # exact, as the stores compare
        (JobQuery(user_email="bob@acme.test"), False),
        (JobQuery(created_from=T0), True),  # inclusive
        (JobQuery(created_from=T0 + timedelta(microseconds=1)), False),
        (JobQuery(created_to=T0), False),  # exclusive
        (JobQuery(created_to=T0 + timedelta(microseconds=1)), True),
        (JobQuery(created_from=T0 - timedelta(days=1), created_to=T0 + timedelta(days=1)), True),
        (
            JobQuery(
                types=frozenset({CRAWL}),
                statuses=frozenset({RUNNING, DONE}),
                user_email="ann@acme.test",
                created_from=T0,
                created_to=T0 + timedelta(hours=1),
            ),
            True,
        ),
        (JobQuery(types=frozenset({CRAWL}), statuses=frozenset({DONE})), False),  # all at once
    ],
)
def test_a_job_matches_when_every_given_filter_holds(query: JobQuery, expected: bool) -> None:
    assert query.matches(state()) is expected
    assert query.matches(view()) is expected


def test_a_job_that_changes_status_moves_in_and_out_of_a_status_filter() -> None:
    running_only = JobQuery(statuses=frozenset({RUNNING}))
    assert running_only.matches(view(status=RUNNING))
    assert not running_only.matches(view(status=DONE))


def test_times_in_other_offsets_compare_as_instants() -> None:
    plus_two = datetime(2030, 1, 1, 4, 0, tzinfo=timezone(timedelta(hours=2)))  # 02:00 UTC
    assert JobQuery(created_from=plus_two).matches(view(created_at=T0 + timedelta(hours=2)))
    assert not JobQuery(created_to=plus_two).matches(view(created_at=T0 + timedelta(hours=2)))
