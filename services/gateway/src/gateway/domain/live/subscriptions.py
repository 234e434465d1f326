"""Subscriptions: what one client watches, what it already has, and its message sequence.

A subscription decides, for each change the hub routes to it, whether the client should
hear of it:

- a change older than what the client has is dropped, so a client never steps back (an
  update still in flight when the snapshot was read, or a tracker replica taking over);
  a final state always wins over a running one, so even a clock step on the tracker
  cannot hold back the end of a job;
- a list subscription passes the jobs its filter matches (`JobQuery.matches`, the very
  rule `GET /jobs` follows) and, once, a job it had shown that no longer matches
  (`matches: false`), so the client can drop it;
- while its snapshot is being read, changes are held and then passed through the same
  rules against the snapshot, so none is lost between the read and the first update.

Seq numbers are taken when a message is written, not when it is accepted: the client
sees 0 (the snapshot), 1, 2, 3... whatever coalescing dropped in between, so a gap can
only mean a lost message.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway.domain.live import protocol
from jobs_shared.contracts import TERMINAL_JOB_STATUSES, JobView
from jobs_shared.store import JobQuery

KNOWN_JOBS_LIMIT = 10_000
"""Jobs a list subscription remembers (those it last showed, least recently changed
forgotten first): bounds a long-lived, unfiltered subscription of a busy tenant. A
forgotten job that later leaves the filter is not announced as leaving."""

Version = tuple[bool, datetime]
"""(final, updated_at): a final state sorts after every running one."""


def version(job: JobView) -> Version:
    return (job.status in TERMINAL_JOB_STATUSES, job.updated_at)


@dataclass(frozen=True, slots=True)
class Change:
    """A job as the tracker announced it, with its JSON encoded once for every socket."""

    job: JobView
    json: str
    version: Version

    @classmethod
    def of(cls, job: JobView) -> "Change":
        return cls(job=job, json=job.model_dump_json(), version=version(job))

    @property
    def final(self) -> bool:
        return self.version[0]


@dataclass(frozen=True, slots=True)
class JobTarget:
    job_id: str


@dataclass(frozen=True, slots=True)
class ListTarget:
    query: JobQuery


Target = JobTarget | ListTarget


class Owner(Protocol):
    """The session a subscription belongs to: it sends what the subscription passes."""

    def deliver(self, delivery: "Delivery") -> None: ...

    def resync(self) -> None:
        """Read every subscription's state afresh: changes may have been missed."""


class Subscription:
    def __init__(
        self, subscription_id: str, tenant: str, target: Target, ref: str | None, owner: Owner
    ) -> None:
        self.id = subscription_id
        self.tenant = tenant
        self.target = target
        self.ref = ref
        self.owner = owner
        self.active = True
        self._seq = 0
        self._known: dict[str, Version] = {}
        self._held: dict[str, Change] | None = {}
        """Changes that arrived while the snapshot was read; None once it is sent."""

    def next_seq(self) -> int:
        seq = self._seq
        self._seq += 1
        return seq

    def hold(self) -> None:
        """Hold changes until `prime`: a (new) snapshot is about to be read."""
        if self._held is None:
            self._held = {}

    def prime(self, snapshot: Iterable[JobView]) -> None:
        """The client now has `snapshot`: judge the held changes against it and pass on
        the newer ones."""
        self._known = {job.id: version(job) for job in snapshot}
        held, self._held = self._held or {}, None
        for change in held.values():
            self.offer(change)

    def offer(self, change: Change) -> None:
        """A change of a job of this subscription's tenant, which it may concern."""
        if self._held is not None:
            self._held[change.job.id] = change
            return
        job_id = change.job.id
        known = self._known.get(job_id)
        if known is not None and change.version <= known:
            return
        matches = None  # one job: the hub routes only that job's changes here
        if isinstance(self.target, ListTarget):
            matches = self.target.query.matches(change.job)
            if not matches and known is None:
                return
        if matches is False:
            del self._known[job_id]
        else:
            self._remember(job_id, change.version)
        self.owner.deliver(Delivery(self, change, matches))

    def render(self, delivery: "Delivery") -> str | None:
        """The update message for `delivery`, numbered now; None if it is no longer worth
        sending (unsubscribed, or older than a snapshot sent since)."""
        known = self._known.get(delivery.change.job.id)
        if not self.active or (known is not None and delivery.change.version < known):
            return None
        return protocol.update(self.id, self.next_seq(), delivery.change.json, delivery.matches)

    def _remember(self, job_id: str, seen: Version) -> None:
        self._known.pop(job_id, None)
        self._known[job_id] = seen  # most recently changed last
        if len(self._known) > KNOWN_JOBS_LIMIT:
            del self._known[next(iter(self._known))]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A change one subscription passed, waiting in its socket's outbox."""

    subscription: Subscription
    change: Change
    matches: bool | None
    """For list subscriptions: whether the job matches the filter; None for one job."""

    @property
    def key(self) -> tuple[Subscription, str]:
        """What coalesces: one pending state per subscription and job."""
        return (self.subscription, self.change.job.id)

    def render(self) -> str | None:
        return self.subscription.render(self)
