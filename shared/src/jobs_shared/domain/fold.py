"""The fold: events in, job and item state out. Pure: no I/O, inputs never mutated.

Why it is exact under at-least-once delivery: an item's state is the *join* of every
outcome ever reported for it, under a total order on outcomes (status rank, then
attempt, then time, then error). A join is idempotent, commutative and associative,
so duplicates and reordering cannot change an item's final state. Job counters move
only when an item's state changes, by taking the item's old contribution out and
putting its new one in; so each item is counted exactly once, under one status.

Job status follows PRODUCT.md §2: `pending` until work is seen, `in_progress` while
items run, then `completed` / `partial_success` / `failed` once every item of a final
total has ended; `failed` (job-level error) and `cancelled` end it at once.
Terminal statuses never change again, but late item outcomes still count.

A retry (a submit with `retry_of`) is listed in its original's `retried_by` when the
submit is folded, so each job shows its link without a search at read time.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from jobs_shared.contracts import (
    TERMINAL_ITEM_STATUSES,
    TERMINAL_JOB_STATUSES,
    CancelJob,
    ItemOutcome,
    ItemOutcomes,
    ItemStatus,
    JobFailed,
    JobStarted,
    JobStatus,
    JobSubmitted,
    JobTotalGrew,
    TrackerMessage,
)
from jobs_shared.domain.state import ItemKey, ItemState, ItemTally, JobState
from jobs_shared.errors import ErrorCategory

BUCKET_SECONDS = 10
RATE_HISTORY_SECONDS = 120
NO_ITEMS_ERROR = "There were no items to process."
NO_ITEM_SUCCEEDED_ERROR = "No item succeeded: see the errors below."

_IN_PROGRESS, _SUCCEEDED, _SKIPPED, _FAILED = (
    ItemStatus.IN_PROGRESS,
    ItemStatus.SUCCEEDED,
    ItemStatus.SKIPPED,
    ItemStatus.FAILED,
)
"""Looked up once: on Python 3.11 reading a member off its enum class costs ~0.2 µs."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BUCKET = timedelta(seconds=BUCKET_SECONDS)

_RANK = {
    ItemStatus.PENDING: 0,
    ItemStatus.IN_PROGRESS: 1,
    ItemStatus.SKIPPED: 2,
    ItemStatus.FAILED: 3,
    ItemStatus.SUCCEEDED: 4,
}

_OutcomeKey = tuple[int, int, datetime, str, str]


@dataclass(slots=True)
class FoldResult:
    jobs: dict[str, JobState] = field(default_factory=dict)
    """Jobs this batch changed, in their new state."""
    items: dict[ItemKey, ItemState] = field(default_factory=dict)
    """Items this batch changed, in their new state."""
    dispatch: list[str] = field(default_factory=list)
    """Jobs to hand to a worker: submitted and still pending after this batch."""


def keys_to_load(messages: Iterable[TrackerMessage]) -> tuple[set[str], set[ItemKey]]:
    """The job ids and item keys whose current state the fold of `messages` needs."""
    job_ids: set[str] = set()
    item_keys: set[ItemKey] = set()
    for message in messages:
        job_ids.add(message.job_id)
        if isinstance(message, JobSubmitted) and message.command.retry_of:
            job_ids.add(message.command.retry_of)  # it lists the retry in `retried_by`
        if isinstance(message, ItemOutcomes):
            job_id = message.job_id
            item_keys.update([(job_id, outcome.item_id) for outcome in message.outcomes])
    return job_ids, item_keys


def fold_batch(
    messages: Sequence[TrackerMessage],
    jobs: Mapping[str, JobState],
    items: Mapping[ItemKey, ItemState],
    now: datetime,
) -> FoldResult:
    """Fold `messages` into the loaded `jobs` and `items`; returns only what changed."""
    result = FoldResult()
    buckets = _Buckets()
    for message in messages:
        job = _working_job(message, jobs, result, now)
        if job is None:
            continue
        if isinstance(message, JobSubmitted):
            _apply_submit(job, message)
            _link_retry(job, jobs, result, now)
        elif isinstance(message, CancelJob):
            _apply_cancel(job, message)
        elif isinstance(message, JobStarted | JobTotalGrew):
            _apply_total(job, message)
        elif isinstance(message, JobFailed):
            _apply_job_failed(job, message)
        else:
            _apply_outcomes(job, message.outcomes, items, result.items, buckets)
        job.updated_at = now
    for job in result.jobs.values():
        _settle(job)
        _prune_rate_history(job)
    submitted = dict.fromkeys(m.job_id for m in messages if isinstance(m, JobSubmitted))
    result.dispatch = [j for j in submitted if result.jobs[j].status == JobStatus.PENDING]
    return result


def join_item(item: ItemState | None, job_id: str, outcome: ItemOutcome) -> ItemState:
    """The join of an item's state with one more outcome. Returns `item` itself if unchanged."""
    started = outcome.started_at or (outcome.at if outcome.status == _IN_PROGRESS else None)
    if item is None:
        return _item_from(job_id, outcome, started)
    label = max(item.label, outcome.label)
    attempts = max(item.attempts, outcome.attempt)
    started_at = _earliest(item.started_at, started)
    if _outcome_key_of(outcome) > _item_key_of(item):
        new = _item_from(job_id, outcome, started_at)
        new.label, new.attempts = label, attempts
        return new
    if (label, attempts, started_at) == (item.label, item.attempts, item.started_at):
        return item
    return replace(item, label=label, attempts=attempts, started_at=started_at)


def with_tally(job: JobState, tally: ItemTally) -> JobState:
    """`job` with its counters recounted from its item records (repair after a torn write)."""
    repaired = replace(
        job,
        processed_items=tally.processed,
        failed_items=tally.failed,
        skipped_items=tally.skipped,
        error_counts={c: n for c, n in tally.failed_by_category.items() if n},
        recent_ends={},
    )
    _settle(repaired)
    return repaired


def _working_job(
    message: TrackerMessage,
    jobs: Mapping[str, JobState],
    result: FoldResult,
    now: datetime,
) -> JobState | None:
    job = result.jobs.get(message.job_id)
    if job is not None:
        return job
    loaded = jobs.get(message.job_id)
    if loaded is not None:
        job = _working_copy(loaded)
    elif isinstance(message, CancelJob):
        return None  # nothing to cancel: the job was never seen
    elif isinstance(message, JobSubmitted):
        job = JobState(
            id=message.job_id,
            type=message.job_type,
            tenant=message.command.tenant,
            created_at=message.command.submitted_at,
            updated_at=now,
        )
    else:
        job = JobState(
            id=message.job_id,
            type=message.job_type,
            tenant=message.tenant,
            created_at=message.at,
            updated_at=now,
        )
    result.jobs[job.id] = job
    return job


def _working_copy(loaded: JobState) -> JobState:
    """A loaded job this batch may change (the fold never mutates its inputs)."""
    return replace(
        loaded,
        error_counts=dict(loaded.error_counts),
        recent_ends=dict(loaded.recent_ends),
        retried_by=list(loaded.retried_by),
    )


def _apply_submit(job: JobState, message: JobSubmitted) -> None:
    command = message.command
    if job.submitted:
        return  # a redelivered or repeated submit creates nothing new
    job.submitted = True
    job.user_email = command.user_email
    job.user_id = command.user_id
    job.params = command.params
    job.metadata = command.metadata
    job.retry_of = command.retry_of
    job.created_at = min(job.created_at, command.submitted_at)


def _link_retry(
    retry: JobState, jobs: Mapping[str, JobState], result: FoldResult, now: datetime
) -> None:
    """List `retry` in its original's `retried_by`, once, however often its submit arrives.

    Checked on every submit, not only the first: a store without transactions may have
    saved the retry but not its original before a crash. Only within one tenant.
    """
    if retry.retry_of in (None, retry.id):
        return
    original = result.jobs.get(retry.retry_of) or jobs.get(retry.retry_of)
    if original is None or original.tenant != retry.tenant or retry.id in original.retried_by:
        return
    if original.id not in result.jobs:
        original = result.jobs[original.id] = _working_copy(original)
    original.retried_by.append(retry.id)
    original.updated_at = now


def _apply_cancel(job: JobState, message: CancelJob) -> None:
    if job.status in TERMINAL_JOB_STATUSES:
        return
    job.status = JobStatus.CANCELLED
    job.cancel_requested_at = message.at
    job.finished_at = message.at


def _apply_total(job: JobState, message: JobStarted | JobTotalGrew) -> None:
    job.total_items = max(job.total_items, message.total_items)
    job.total_final = job.total_final or message.total_final
    job.started_at = _earliest(job.started_at, message.at)


def _apply_job_failed(job: JobState, message: JobFailed) -> None:
    if job.status in TERMINAL_JOB_STATUSES:
        return
    job.status = JobStatus.FAILED
    job.error = message.error
    job.error_category = message.category
    job.finished_at = message.at


def _apply_outcomes(
    job: JobState,
    outcomes: Iterable[ItemOutcome],
    loaded: Mapping[ItemKey, ItemState],
    changed: dict[ItemKey, ItemState],
    buckets: "_Buckets",
) -> None:
    """Join each outcome into its item (`changed` first, else `loaded`); count what moved.

    The tracker's hot loop, run once per reported item: what it reads per outcome is
    held in locals. The first start and last outcome time among the changed items are
    folded into the job's at the end: a loaded job's times carry another tzinfo object
    than the outcomes', which makes each comparison with them call both tzinfos.
    """
    job_id = job.id
    started: datetime | None = None
    last: datetime | None = None
    for outcome in outcomes:
        key = (job_id, outcome.item_id)
        old = changed.get(key) or loaded.get(key)
        new = join_item(old, job_id, outcome)
        if new is old:
            continue
        changed[key] = new
        at = outcome.at
        first = new.started_at or at
        if started is None or first < started:
            started = first
        if last is None or at > last:
            last = at
        if old is None:
            was_ended = False
        elif old.status == new.status and old.error_category == new.error_category:
            continue
        else:
            _count(job, old, -1)
            was_ended = old.status in TERMINAL_ITEM_STATUSES
        _count(job, new, +1)
        if not was_ended and new.finished_at is not None and new.status in TERMINAL_ITEM_STATUSES:
            bucket = buckets.of(new.finished_at)
            job.recent_ends[bucket] = job.recent_ends.get(bucket, 0) + 1
    job.started_at = _earliest(job.started_at, started)
    job.last_item_at = _latest(job.last_item_at, last)


def _count(job: JobState, item: ItemState, sign: int) -> None:
    status = item.status
    if status == _SUCCEEDED:
        job.processed_items += sign
    elif status == _SKIPPED:
        job.skipped_items += sign
    elif status == _FAILED:
        job.failed_items += sign
        category = item.error_category or ErrorCategory.INTERNAL_ERROR
        remaining = job.error_counts.get(category, 0) + sign
        if remaining:
            job.error_counts[category] = remaining
        else:
            job.error_counts.pop(category, None)


def _settle(job: JobState) -> None:
    """Move the job along its status ladder after its counters changed."""
    if job.status in TERMINAL_JOB_STATUSES:
        return
    if job.status == JobStatus.PENDING and job.started_at is not None:
        job.status = JobStatus.IN_PROGRESS
    if not job.total_final or job.ended_items < job.total_items:
        return
    job.finished_at = job.last_item_at or job.started_at or job.updated_at
    if job.total_items == 0:
        job.status, job.error = JobStatus.FAILED, NO_ITEMS_ERROR
    elif job.processed_items == job.total_items:
        job.status = JobStatus.COMPLETED
    elif job.processed_items > 0:
        job.status = JobStatus.PARTIAL_SUCCESS
    else:
        job.status, job.error = JobStatus.FAILED, NO_ITEM_SUCCEEDED_ERROR


def _prune_rate_history(job: JobState) -> None:
    if not job.recent_ends:
        return
    newest = max(job.recent_ends)
    oldest_kept = newest - RATE_HISTORY_SECONDS // BUCKET_SECONDS
    for bucket in [b for b in job.recent_ends if b < oldest_kept]:
        del job.recent_ends[bucket]


class _Buckets:
    """The 10-second bucket of each end time, the last bucket's bounds remembered.

    The items of one message mostly end within seconds of each other, and comparing
    two times that share a tzinfo is far cheaper than converting one: pydantic's UTC
    tzinfo is native code that Python must call, so `timestamp()` costs about 0.7 µs.
    """

    __slots__ = ("_bucket", "_end", "_start")

    def __init__(self) -> None:
        self._start = self._end = _EPOCH
        self._bucket = 0

    def of(self, moment: datetime) -> int:
        if not self._start <= moment < self._end:
            since_epoch = moment - _EPOCH
            self._bucket = since_epoch // _BUCKET
            self._start = moment - since_epoch % _BUCKET
            self._end = self._start + _BUCKET
        return self._bucket


def _item_from(job_id: str, outcome: ItemOutcome, started_at: datetime | None) -> ItemState:
    """The item as `outcome` alone says it is.

    Fields go by position, in `ItemState`'s order: Python 3.11 packs keywords given to a
    class into a dict, which made building the item cost as much as the rest of its fold.
    """
    error = outcome.error
    return ItemState(
        job_id,
        outcome.item_id,
        outcome.status,  # an ItemStatus already: the contract validated it
        outcome.at,  # outcome_at
        outcome.label,
        outcome.attempt,  # attempts
        started_at,
        outcome.at if outcome.status in TERMINAL_ITEM_STATUSES else None,  # finished_at
        error.category if error else None,
        error.message if error else None,
        outcome.result,
        outcome.attempt,  # outcome_attempt
    )


def _outcome_key_of(outcome: ItemOutcome) -> _OutcomeKey:
    error = outcome.error
    return (
        _RANK[outcome.status],
        outcome.attempt,
        outcome.at,
        error.category if error else "",  # a StrEnum: it orders as its value
        error.message if error else "",
    )


def _item_key_of(item: ItemState) -> _OutcomeKey:
    return (
        _RANK[item.status],
        item.outcome_attempt,
        item.outcome_at,
        item.error_category or "",
        item.error_message or "",
    )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
