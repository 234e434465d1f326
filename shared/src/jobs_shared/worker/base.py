"""What a worker service writes: how to plan a job into items, and how to process one item.

Everything else (queues, chunks, concurrency, timeouts, retries, outcomes, cancel,
heartbeats, graceful shutdown) is the runtime's, the same for every job type.

Two rules keep the counts exact under at-least-once delivery, where a plan or an item
may run twice (a replica died, a chunk was redelivered):

- `plan` yields the same `item_id` for the same item every time (row number, product
  id, URL); the tracker counts each id once. Duplicates within one plan are dropped.
- `process` may run more than once for an item, so its side effects must be idempotent
  (an upsert by product id, not an insert).
"""

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from jobs_shared.contracts import JobType, RunJob, WorkChunk, WorkItem
from jobs_shared.contracts.work import EncodedItems

PlannedItems = WorkItem | EncodedItems
"""What a plan yields: one item, or a batch of them already written as JSON."""


@dataclass(frozen=True, slots=True)
class JobRef:
    """The job an item belongs to, as every message about it names it."""

    job_id: str
    tenant: str
    job_type: JobType
    user_email: str

    @classmethod
    def of(cls, source: RunJob | WorkChunk) -> "JobRef":
        return cls(source.job_id, source.tenant, source.job_type, source.user_email)


@dataclass(frozen=True, slots=True)
class ItemContext:
    """What `process` knows besides the item: its job (tenant-scope every write!) and attempt."""

    job: JobRef
    attempt: int


class Worker(ABC):
    """One job type's work. Raise `WorkerError`s (see `errors.py`) for failures you understand."""

    job_type: ClassVar[JobType]

    @abstractmethod
    def plan(self, job: RunJob) -> AsyncIterator[PlannedItems]:
        """Yield the job's items (write it as an `async def` with `yield`), one at a time
        or, already written as JSON, a batch at a time (`EncodedItems`).

        Items are published in chunks as they come, so a planner that discovers items
        slowly (a crawl) gets them processed meanwhile; the total stays non-final until
        the plan ends. Raise to fail the whole job (unreadable file): the error is
        classified like an item's and shown as the job's error. No items at all fails
        the job with "no items".
        """

    @abstractmethod
    async def process(self, item: WorkItem, context: ItemContext) -> dict[str, Any] | None:
        """Do one item; return a small JSON-able summary (shown in Items) or None."""

    async def open(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Acquire what `process` needs (an HTTP session, a catalog connection)."""

    async def close(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Release what `open` acquired."""


BatchResult = dict[str, Any] | None | Exception
"""One item's end in a batch: its result (as `process` returns it), or what it failed with."""


class BatchWorker(Worker):
    """A worker whose items are cheap and share their cost (one catalog write for many rows):
    the runtime hands it each chunk's items at once instead of one by one.

    Per-item overhead (a task, a time limit, a start report each) would otherwise cost
    more than such an item's own work. What changes against `process`:

    - The chunk's items start together, after one cancel check; the item time limit
      covers the whole batch, and attempts count for the batch.
    - Raising fails (or, if transient, retries) the whole batch; an item that fails
      alone is returned as its exception, classified as if it had been raised, and is
      not retried (a bad row stays bad).
    - Items report no separate start: their final outcome carries `started_at`.
    """

    @abstractmethod
    async def process_batch(
        self, items: Sequence[WorkItem], context: ItemContext
    ) -> Sequence[BatchResult]:
        """Do `items`; one `BatchResult` per item, in the same order."""

    async def process(self, item: WorkItem, context: ItemContext) -> dict[str, Any] | None:
        [result] = await self.process_batch([item], context)
        if isinstance(result, Exception):
            raise result
        return result
