"""The fold: exact under duplicates, reordering and any batching; and each status rule of §2.

The property test builds jobs whose every item has a known fate, reports that fate as a
worker would (starts, final outcomes, retries), duplicates and shuffles the stream, cuts
it into batches and folds them one by one through a simulated store that keeps only
documents. The counters must equal the answer counted straight from the fates.
"""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs_shared.contracts import (
    CancelJob,
    ItemOutcome,
    ItemOutcomes,
    ItemStatus,
    JobFailed,
    JobStarted,
    JobStatus,
    JobSubmitted,
    JobTotalGrew,
    JobType,
    SubmitJob,
    TrackerMessage,
)
from jobs_shared.contracts.events import ItemError, ReportedItemStatus
from jobs_shared.domain.fold import (
    NO_ITEM_SUCCEEDED_ERROR,
    NO_ITEMS_ERROR,
    FoldResult,
    fold_batch,
    keys_to_load,
)
from jobs_shared.domain.state import JobState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store.documents import (
    Document,
    item_from_doc,
    item_to_doc,
    job_from_doc,
    job_to_doc,
)

T0 = datetime(2030, 1, 1, tzinfo=UTC)
TENANT = "acme"
JOB_TYPE = JobType.ENRICHMENT


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- a store that keeps only documents, as both adapters do ------------------------------


class DocumentStore:
    """Loads what `keys_to_load` asks for and saves what changed, through the documents."""

    def __init__(self) -> None:
        self.jobs: dict[str, str] = {}
        self.items: dict[tuple[str, str], str] = {}
        self.clock = at(3600)

    def fold(self, batch: Sequence[TrackerMessage]) -> FoldResult:
        job_ids, item_keys = keys_to_load(batch)
        jobs = {j: job_from_doc(self._load(self.jobs[j])) for j in job_ids if j in self.jobs}
        items = {k: item_from_doc(self._load(self.items[k])) for k in item_keys if k in self.items}
        self.clock += timedelta(seconds=1)
        result = fold_batch(batch, jobs, items, self.clock)
        for job in result.jobs.values():
            self.jobs[job.id] = json.dumps(job_to_doc(job))
        for item in result.items.values():
            self.items[item.key] = json.dumps(item_to_doc(item))
        return result

    def job(self, job_id: str) -> JobState:
        return job_from_doc(self._load(self.jobs[job_id]))

    @staticmethod
    def _load(text: str) -> Document:
        loaded: Document = json.loads(text)
        return loaded


def fold_all(*batches: Iterable[TrackerMessage]) -> DocumentStore:
    store = DocumentStore()
    for batch in batches:
        store.fold(list(batch))
    return store


# --- messages as a submitter and a worker send them ----------------------------------------


def submit(job_id: str = "job") -> JobSubmitted:
    command = SubmitJob(job_id=job_id, tenant=TENANT, user_email="ops@acme.test", submitted_at=T0)
    return JobSubmitted(job_id=job_id, job_type=JOB_TYPE, command=command)


def job_started(total: int, job_id: str = "job", final: bool = True) -> JobStarted:
    return JobStarted(
        job_id=job_id,
        tenant=TENANT,
        job_type=JOB_TYPE,
        total_items=total,
        total_final=final,
        at=at(1),
    )


def total_grew(total: int, final: bool, job_id: str = "job") -> JobTotalGrew:
    return JobTotalGrew(
        job_id=job_id,
        tenant=TENANT,
        job_type=JOB_TYPE,
        total_items=total,
        total_final=final,
        at=at(2),
    )


def outcome(
    item_id: str,
    status: ReportedItemStatus,
    seconds: float,
    *,
    attempt: int = 1,
    category: ErrorCategory | None = None,
    started_at: datetime | None = None,
) -> ItemOutcome:
    error = None
    if status == ItemStatus.FAILED:
        error = ItemError(category=category or ErrorCategory.INTERNAL_ERROR, message="boom")
    return ItemOutcome(
        item_id=item_id,
        status=status,
        attempt=attempt,
        at=at(seconds),
        started_at=started_at,
        error=error,
    )


def reported(*outcomes: ItemOutcome, job_id: str = "job") -> ItemOutcomes:
    return ItemOutcomes(
        job_id=job_id, tenant=TENANT, job_type=JOB_TYPE, at=T0, outcomes=list(outcomes)
    )


def succeeded(item_id: str, seconds: float = 10) -> ItemOutcomes:
    return reported(outcome(item_id, ItemStatus.SUCCEEDED, seconds))


def failed(item_id: str, seconds: float = 10) -> ItemOutcomes:
    return reported(outcome(item_id, ItemStatus.FAILED, seconds, category=ErrorCategory.TIMEOUT))


# --- the property ------------------------------------------------------------------------

FATES = ("succeeded", "failed", "skipped", "retried")
"""`retried`: attempt 1 failed, attempt 2 succeeded."""
FINAL_STATUSES: dict[str, ReportedItemStatus] = {
    "succeeded": ItemStatus.SUCCEEDED,
    "failed": ItemStatus.FAILED,
    "skipped": ItemStatus.SKIPPED,
}


@dataclass(frozen=True)
class ItemPlan:
    item_id: str
    fate: str
    category: ErrorCategory
    reports_start: bool
    """A separate in-progress outcome; otherwise the final outcome carries `started_at`."""

    def outcomes(self, base: float) -> list[ItemOutcome]:
        start = outcome(self.item_id, ItemStatus.IN_PROGRESS, base)
        started_at = None if self.reports_start else at(base)
        final_at = base + 1
        if self.fate == "retried":
            finals = [
                outcome(
                    self.item_id,
                    ItemStatus.FAILED,
                    final_at,
                    category=self.category,
                    started_at=started_at,
                ),
                outcome(self.item_id, ItemStatus.SUCCEEDED, final_at + 1, attempt=2),
            ]
        else:
            finals = [
                outcome(
                    self.item_id,
                    FINAL_STATUSES[self.fate],
                    final_at,
                    category=self.category,
                    started_at=started_at,
                )
            ]
        return [start, *finals] if self.reports_start else finals


@dataclass(frozen=True)
class JobPlan:
    job_id: str
    items: tuple[ItemPlan, ...]

    def expected_counters(self) -> tuple[int, int, int, dict[ErrorCategory, int]]:
        final = ["succeeded" if i.fate == "retried" else i.fate for i in self.items]
        errors = Counter(i.category for i in self.items if i.fate == "failed")
        return final.count("succeeded"), final.count("failed"), final.count("skipped"), errors

    def expected_status(self) -> JobStatus:
        processed, _, _, _ = self.expected_counters()
        if not self.items:
            return JobStatus.FAILED
        if processed == len(self.items):
            return JobStatus.COMPLETED
        return JobStatus.PARTIAL_SUCCESS if processed else JobStatus.FAILED


@st.composite
def job_plans(draw: st.DrawFn, job_id: str) -> JobPlan:
    count = draw(st.integers(min_value=0, max_value=12))
    items = tuple(
        ItemPlan(
            item_id=f"item-{n}",
            fate=draw(st.sampled_from(FATES)),
            category=draw(st.sampled_from(ErrorCategory)),
            reports_start=draw(st.booleans()),
        )
        for n in range(count)
    )
    return JobPlan(job_id, items)


@st.composite
def worker_messages(draw: st.DrawFn, plan: JobPlan) -> list[TrackerMessage]:
    """A submit, the start with the final total, and every outcome in random groups."""
    every = [o for n, item in enumerate(plan.items) for o in item.outcomes(base=10 + 5 * n)]
    every = draw(st.permutations(every))
    messages: list[TrackerMessage] = [
        submit(plan.job_id),
        job_started(len(plan.items), plan.job_id),
    ]
    while every:
        size = draw(st.integers(min_value=1, max_value=len(every)))
        messages.append(reported(*every[:size], job_id=plan.job_id))
        every = every[size:]
    return messages


@st.composite
def delivered_batches(
    draw: st.DrawFn, messages: list[TrackerMessage]
) -> list[list[TrackerMessage]]:
    """The messages with redeliveries, in any order, cut into batches of any size."""
    again = draw(st.lists(st.sampled_from(messages), max_size=len(messages)))
    stream = draw(st.permutations([*messages, *again]))
    batches = []
    while stream:
        size = draw(st.integers(min_value=1, max_value=len(stream)))
        batches.append(stream[:size])
        stream = stream[size:]
    return batches


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[JobPlan], list[list[TrackerMessage]]]:
    plans = [draw(job_plans(f"job-{n}")) for n in range(draw(st.integers(1, 3)))]
    messages = [m for plan in plans for m in draw(worker_messages(plan))]
    return plans, draw(delivered_batches(messages))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_counters_are_exact_under_redelivery_reordering_and_any_batching(
    scenario: tuple[list[JobPlan], list[list[TrackerMessage]]],
) -> None:
    plans, batches = scenario
    store = fold_all(*batches)
    for plan in plans:
        job = store.job(plan.job_id)
        processed, failed_count, skipped, errors = plan.expected_counters()
        assert (job.processed_items, job.failed_items, job.skipped_items) == (
            processed,
            failed_count,
            skipped,
        )
        assert job.error_counts == errors
        assert job.total_items == len(plan.items)
        if not any(item.fate == "retried" for item in plan.items):
            # One terminal outcome per item: the job ends exactly once, at the right status.
            assert job.status == plan.expected_status()


# --- the status rules of PRODUCT.md §2, one by one -----------------------------------------


def test_a_submitted_job_is_pending() -> None:
    job = fold_all([submit()]).job("job")
    assert (job.status, job.submitted, job.started_at) == (JobStatus.PENDING, True, None)


def test_a_job_is_in_progress_once_work_is_seen() -> None:
    assert fold_all([submit(), job_started(3)]).job("job").status == JobStatus.IN_PROGRESS
    start = reported(outcome("a", ItemStatus.IN_PROGRESS, 5))
    assert fold_all([submit(), start]).job("job").status == JobStatus.IN_PROGRESS


def test_a_job_whose_every_item_succeeded_is_completed() -> None:
    job = fold_all([submit(), job_started(2), succeeded("a", 10), succeeded("b", 20)]).job("job")
    assert (job.status, job.processed_items, job.error) == (JobStatus.COMPLETED, 2, None)
    assert job.finished_at == at(20)


def test_a_job_with_some_items_failed_is_a_partial_success() -> None:
    job = fold_all([submit(), job_started(2), succeeded("a"), failed("b")]).job("job")
    assert (job.status, job.processed_items, job.failed_items) == (JobStatus.PARTIAL_SUCCESS, 1, 1)
    assert job.error_counts == {ErrorCategory.TIMEOUT: 1}


def test_a_job_level_error_fails_the_job() -> None:
    error = JobFailed(
        job_id="job",
        tenant=TENANT,
        job_type=JOB_TYPE,
        error="The file is not a spreadsheet.",
        category=ErrorCategory.PARSE_ERROR,
        at=at(3),
    )
    job = fold_all([submit(), job_started(5), error]).job("job")
    assert (job.status, job.error, job.error_category) == (
        JobStatus.FAILED,
        "The file is not a spreadsheet.",
        ErrorCategory.PARSE_ERROR,
    )
    assert job.finished_at == at(3)


def test_a_job_where_no_item_succeeded_failed() -> None:
    job = fold_all([submit(), job_started(2), failed("a"), failed("b")]).job("job")
    assert (job.status, job.error) == (JobStatus.FAILED, NO_ITEM_SUCCEEDED_ERROR)


def test_a_job_with_no_items_failed_with_a_clear_message() -> None:
    job = fold_all([submit(), job_started(0)]).job("job")
    assert (job.status, job.error) == (JobStatus.FAILED, NO_ITEMS_ERROR)


def test_a_cancelled_job_keeps_what_was_processed() -> None:
    cancel = CancelJob(
        job_id="job", tenant=TENANT, job_type=JOB_TYPE, requested_by="ops@acme.test", at=at(15)
    )
    skipped = reported(outcome("b", ItemStatus.SKIPPED, 16))
    job = fold_all([submit(), job_started(3), succeeded("a")], [cancel], [skipped]).job("job")
    assert (job.status, job.cancel_requested_at, job.finished_at) == (
        JobStatus.CANCELLED,
        at(15),
        at(15),
    )
    assert (job.processed_items, job.skipped_items) == (1, 1)


def test_cancelling_a_job_never_seen_creates_nothing() -> None:
    cancel = CancelJob(job_id="ghost", tenant=TENANT, job_type=JOB_TYPE, requested_by="x", at=T0)
    assert fold_all([cancel]).jobs == {}


def test_terminal_statuses_never_change() -> None:
    cancel = CancelJob(job_id="job", tenant=TENANT, job_type=JOB_TYPE, requested_by="x", at=at(30))
    job_error = JobFailed(
        job_id="job",
        tenant=TENANT,
        job_type=JOB_TYPE,
        error="late",
        category=ErrorCategory.INTERNAL_ERROR,
        at=at(31),
    )
    completed: list[TrackerMessage] = [submit(), job_started(1), succeeded("a")]
    job = fold_all(completed, [cancel], [job_error]).job("job")
    assert (job.status, job.error, job.cancel_requested_at) == (JobStatus.COMPLETED, None, None)

    failed_job = fold_all([submit(), job_started(0)], [cancel], [succeeded("late")]).job("job")
    assert failed_job.status == JobStatus.FAILED
    assert failed_job.processed_items == 1  # late outcomes still count

    cancelled = fold_all([submit(), job_started(2)], [cancel], [succeeded("a"), failed("b")])
    assert cancelled.job("job").status == JobStatus.CANCELLED


def test_a_growing_total_ends_the_job_only_once_it_is_final() -> None:
    store = fold_all([submit(), job_started(2, final=False), succeeded("a"), succeeded("b")])
    assert store.job("job").status == JobStatus.IN_PROGRESS  # all known items ended, more may come

    store.fold([total_grew(3, final=False)])
    assert (store.job("job").total_items, store.job("job").status) == (3, JobStatus.IN_PROGRESS)

    store.fold([total_grew(3, final=True)])
    assert store.job("job").status == JobStatus.IN_PROGRESS  # 2 of 3 ended

    store.fold([succeeded("c", 40)])
    job = store.job("job")
    assert (job.status, job.processed_items, job.total_items) == (JobStatus.COMPLETED, 3, 3)


def test_a_smaller_total_reported_late_never_shrinks_the_job() -> None:
    store = fold_all([submit(), total_grew(5, final=False)], [job_started(3, final=True)])
    assert (store.job("job").total_items, store.job("job").total_final) == (5, True)


def test_events_before_the_submit_still_count() -> None:
    store = fold_all([succeeded("a"), job_started(1)], [submit()])
    job = store.job("job")
    assert (job.submitted, job.status, job.processed_items) == (True, JobStatus.COMPLETED, 1)


def test_a_still_pending_job_is_dispatched_again_on_a_repeated_submit() -> None:
    store = DocumentStore()
    assert store.fold([submit()]).dispatch == ["job"]
    assert store.fold([submit()]).dispatch == ["job"]
    store.fold([job_started(1)])
    assert store.fold([submit()]).dispatch == []


# --- the retry link ---------------------------------------------------------------------


def retry(job_id: str, of: str, tenant: str = TENANT) -> JobSubmitted:
    command = SubmitJob(
        job_id=job_id, tenant=tenant, user_email="ops@acme.test", retry_of=of, submitted_at=at(60)
    )
    return JobSubmitted(job_id=job_id, job_type=JOB_TYPE, command=command)


def test_each_retry_is_listed_on_its_original_once() -> None:
    store = fold_all(
        [submit("orig")], [retry("r1", "orig")], [retry("r1", "orig"), retry("r2", "orig")]
    )
    assert store.job("orig").retried_by == ["r1", "r2"]
    assert (store.job("r1").retry_of, store.job("r1").retried_by) == ("orig", [])
    assert "orig" not in store.fold([retry("r2", "orig")]).jobs  # a repeat writes nothing


def test_a_retry_folded_with_its_original_is_listed_too() -> None:
    assert fold_all([submit("orig"), retry("r1", "orig")]).job("orig").retried_by == ["r1"]


def test_a_repeated_retry_submit_restores_a_link_a_torn_write_lost() -> None:
    store = fold_all([submit("orig")])
    unlinked = store.jobs["orig"]
    store.fold([retry("r1", "orig")])
    store.jobs["orig"] = unlinked  # the retry was saved, its original was not
    store.fold([retry("r1", "orig")])
    assert store.job("orig").retried_by == ["r1"]


def test_a_retry_links_only_to_a_known_job_of_its_own_tenant() -> None:
    store = fold_all([submit("orig")], [retry("r1", "orig", tenant="globex"), retry("r2", "ghost")])
    assert store.job("orig").retried_by == []
    assert "ghost" not in store.jobs
