"""The store port: the one interface every service uses to read and write jobs.

Two adapters implement it, SQLite (embedded default) and MongoDB, and one contract
test suite (`tests/integration/test_store_contract.py`) holds both to it. Every
read that a user can cause is scoped by tenant here, so isolation does not depend
on each endpoint remembering it.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from jobs_shared.contracts import ItemStatus, JobStatus, JobType
from jobs_shared.domain.state import ItemKey, ItemState, JobState
from jobs_shared.errors import ErrorCategory


class FilterableJob(Protocol):
    """What the list filters look at: a stored `JobState` and a pushed `JobView` alike."""

    @property
    def type(self) -> JobType: ...

    @property
    def status(self) -> JobStatus: ...

    @property
    def user_email(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class JobQuery:
    """The list filters of `GET /jobs`; empty means no filter."""

    types: frozenset[JobType] = frozenset()
    statuses: frozenset[JobStatus] = frozenset()
    user_email: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None

    def matches(self, job: FilterableJob) -> bool:
        """Whether `list_jobs` would list `job` (tenant aside): `created_from` inclusive,
        `created_to` exclusive, every given filter at once.

        The live updates decide with it which pushed jobs a list subscription shows, and
        the store contract suite uses it as the reference every adapter must agree with,
        so a list read over REST and the same list kept live can never disagree.
        """
        return (
            (not self.types or job.type in self.types)
            and (not self.statuses or job.status in self.statuses)
            and (self.user_email is None or job.user_email == self.user_email)
            and (self.created_from is None or job.created_at >= self.created_from)
            and (self.created_to is None or job.created_at < self.created_to)
        )


@dataclass(frozen=True, slots=True)
class JobCursor:
    """Where the next page starts: just after this (created_at, id), newest first."""

    created_at: datetime
    job_id: str


@dataclass(frozen=True, slots=True)
class ActiveCount:
    type: JobType
    status: JobStatus
    count: int


class JobStore(Protocol):
    async def open(self) -> None:
        """Connect and create the schema or indexes if missing. Idempotent."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise if the store cannot answer (readiness)."""

    # --- the tracker's side: load, fold, save -------------------------------------
    async def load_jobs(self, job_ids: Collection[str]) -> dict[str, JobState]: ...

    async def load_items(self, keys: Collection[ItemKey]) -> dict[ItemKey, ItemState]: ...

    async def save_fold(self, jobs: Sequence[JobState], items: Sequence[ItemState]) -> None:
        """Write one folded batch. After a crash at any point, `load_jobs` returns counters
        that agree with the item records (all of the batch or none of it)."""

    # --- the read side: always scoped by tenant ------------------------------------
    async def get_job(self, tenant: str, job_id: str) -> JobState | None: ...

    async def list_jobs(
        self, tenant: str, query: JobQuery, limit: int, after: JobCursor | None
    ) -> list[JobState]:
        """Up to `limit` jobs matching `query`, newest first (created_at, then id)."""

    async def list_items(
        self,
        job_id: str,
        statuses: Collection[ItemStatus],
        limit: int,
        after_item_id: str | None,
    ) -> list[ItemState]:
        """Items of one job (the caller checked the tenant), ordered by item id."""

    async def failed_examples(
        self, job_id: str, category: ErrorCategory, limit: int
    ) -> list[ItemState]: ...

    async def count_active(self, tenant: str) -> list[ActiveCount]:
        """Pending and in-progress jobs per type."""
