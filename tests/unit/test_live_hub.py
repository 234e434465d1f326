"""The hub and subscriptions: which change reaches which client, in what order, numbered how.

A recording owner stands in for a socket's session, so routing, tenant isolation, the
filter's in-and-out, staleness and the snapshot hand-over are checked without I/O.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.domain.live import subscriptions
from gateway.domain.live.hub import Hub
from gateway.domain.live.subscriptions import (
    Change,
    Delivery,
    JobTarget,
    ListTarget,
    Subscription,
    Target,
)
from jobs_shared.contracts import JobStatus, JobType, JobView
from jobs_shared.domain.metrics import job_view
from jobs_shared.domain.state import JobState
from jobs_shared.store import JobQuery

T0 = datetime(2030, 1, 1, tzinfo=UTC)
RUNNING, DONE, PENDING = JobStatus.IN_PROGRESS, JobStatus.COMPLETED, JobStatus.PENDING


@dataclass(eq=False)
class Recorder:
    """A session that keeps what it is handed and writes it when told to (`write`)."""

    delivered: list[Delivery] = field(default_factory=list)
    written: list[dict[str, Any]] = field(default_factory=list)
    resyncs: int = 0

    def deliver(self, delivery: Delivery) -> None:
        self.delivered.append(delivery)

    def resync(self) -> None:
        self.resyncs += 1

    def write(self) -> list[dict[str, Any]]:
        """Render what was delivered since the last write, as a session's writer would
        (without coalescing); returns everything written so far."""
        pending, self.delivered = self.delivered, []
        self.written.extend(json.loads(t) for d in pending if (t := d.render()) is not None)
        return self.written


def job(
    job_id: str = "job-1",
    tenant: str = "acme",
    status: JobStatus = RUNNING,
    processed: int = 0,
    at: float = 0.0,
    job_type: JobType = JobType.CRAWL,
) -> JobView:
    state = JobState(
        id=job_id,
        type=job_type,
        tenant=tenant,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=at),
        status=status,
        user_email="ann@acme.test",
        total_items=10,
        processed_items=processed,
    )
    return job_view(state, T0)


def subscribe(
    hub: Hub, target: Target, tenant: str = "acme", snapshot: list[JobView] | None = None
) -> tuple[Subscription, Recorder]:
    owner = Recorder()
    subscription = Subscription("s1", tenant, target, None, owner)
    hub.add(subscription)
    subscription.prime(snapshot or [])
    return subscription, owner


def publish(hub: Hub, *jobs: JobView, written_by: Recorder | None = None) -> None:
    """Publish `jobs` one by one; `written_by` writes after each, as a prompt writer would."""
    for view in jobs:
        hub.publish(Change.of(view))
        if written_by is not None:
            written_by.write()


def test_a_job_subscription_hears_its_job_only_and_numbers_from_one() -> None:
    hub = Hub()
    subscription, owner = subscribe(hub, JobTarget("job-1"), snapshot=[job(at=0)])
    subscription.next_seq()  # the snapshot took 0
    publish(
        hub, job(processed=1, at=1), job("job-2", at=1), job(processed=2, at=2), written_by=owner
    )

    sent = owner.write()
    assert [(m["op"], m["seq"], m["job"]["processed_items"]) for m in sent] == [
        ("update", 1, 1),
        ("update", 2, 2),
    ]
    assert all("matches" not in m for m in sent)


def test_another_tenants_job_never_reaches_a_subscription_whatever_its_id_or_filter() -> None:
    hub = Hub()
    _, by_id = subscribe(hub, JobTarget("job-1"))
    _, by_list = subscribe(hub, ListTarget(JobQuery()))
    publish(hub, job("job-1", tenant="globex", at=1), job("job-9", tenant="globex", at=1))
    assert by_id.delivered == []
    assert by_list.delivered == []


def test_a_list_subscription_shows_matching_jobs_and_says_once_when_one_leaves() -> None:
    hub = Hub()
    running = ListTarget(JobQuery(statuses=frozenset({RUNNING})))
    _, owner = subscribe(hub, running)
    publish(
        hub,
        job("job-1", status=PENDING, at=1),  # never matched: nothing to say
        job("job-1", status=RUNNING, at=2),
        job("job-1", status=RUNNING, processed=5, at=3),
        job("job-1", status=DONE, processed=10, at=4),
        job("job-1", status=DONE, processed=10, at=5),  # gone: nothing more
        written_by=owner,
    )
    assert [(m["matches"], m["job"]["status"]) for m in owner.write()] == [
        (True, "in_progress"),
        (True, "in_progress"),
        (False, "completed"),
    ]


def test_a_change_older_than_what_the_client_has_is_dropped() -> None:
    hub = Hub()
    _, owner = subscribe(hub, JobTarget("job-1"), snapshot=[job(processed=5, at=5)])
    publish(hub, job(processed=4, at=4), job(processed=5, at=5), job(processed=6, at=6))
    assert [m["job"]["processed_items"] for m in owner.write()] == [6]


def test_a_final_state_wins_over_a_running_one_even_with_an_earlier_clock() -> None:
    hub = Hub()
    _, owner = subscribe(hub, JobTarget("job-1"), snapshot=[job(at=10)])
    publish(hub, job(status=DONE, processed=10, at=9), job(status=RUNNING, at=11))
    assert [m["job"]["status"] for m in owner.write()] == ["completed"]


def test_changes_during_the_snapshot_read_are_held_then_judged_against_it() -> None:
    hub = Hub()
    owner = Recorder()
    subscription = Subscription("s1", "acme", JobTarget("job-1"), None, owner)
    hub.add(subscription)  # held from the start: its snapshot is being read
    publish(hub, job(processed=1, at=1), job(processed=3, at=3))
    assert owner.delivered == []

    subscription.prime([job(processed=2, at=2)])  # the snapshot the client got
    assert [m["job"]["processed_items"] for m in owner.write()] == [3]


def test_a_pending_update_older_than_a_later_snapshot_is_not_sent_after_it() -> None:
    hub = Hub()
    subscription, owner = subscribe(hub, JobTarget("job-1"))
    publish(hub, job(processed=1, at=1))  # not written yet...
    subscription.hold()  # ...when a resync reads the job afresh
    subscription.prime([job(processed=4, at=4)])
    assert owner.write() == []


def test_an_unsubscribed_subscription_hears_nothing_and_renders_nothing() -> None:
    hub = Hub()
    subscription, owner = subscribe(hub, JobTarget("job-1"))
    publish(hub, job(processed=1, at=1))  # not written yet when the client unsubscribes
    subscription.active = False
    hub.remove(subscription)
    publish(hub, job(processed=2, at=2))
    assert len(owner.delivered) == 1
    assert owner.write() == []
    assert len(hub) == 0


def test_resync_asks_each_session_with_a_subscription_once() -> None:
    hub = Hub()
    owner = Recorder()
    targets: list[Target] = [JobTarget("job-1"), JobTarget("job-2"), ListTarget(JobQuery())]
    for n, target in enumerate(targets):
        hub.add(Subscription(f"s{n}", "acme", target, None, owner))
    _, other = subscribe(hub, JobTarget("job-1"), tenant="globex")
    hub.resync()
    assert (owner.resyncs, other.resyncs) == (1, 1)


def test_a_list_subscription_forgets_its_least_recently_changed_jobs_beyond_its_limit(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(subscriptions, "KNOWN_JOBS_LIMIT", 2)
    hub = Hub()
    _, owner = subscribe(hub, ListTarget(JobQuery(statuses=frozenset({RUNNING}))))
    publish(hub, job("job-1", at=1), job("job-2", at=1), job("job-3", at=1), written_by=owner)
    publish(hub, job("job-1", status=DONE, at=2), job("job-3", status=DONE, at=2))
    # job-1 was forgotten, so its leaving is not announced; job-3's is
    assert [(m["job"]["id"], m["matches"]) for m in owner.write()][3:] == [("job-3", False)]
