"""`BatchWorker` in the runtime: a chunk's items in one call, each item still judged alone.

The chunk runner is driven directly, with a real outcome publisher whose messages land
in a list and a store that never reports a cancel, so each test reads exactly the
outcomes the tracker would get.
"""

from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import pytest

from jobs_shared.contracts import (
    ItemOutcome,
    ItemOutcomes,
    ItemStatus,
    JobType,
    RunJob,
    WorkChunk,
    WorkItem,
)
from jobs_shared.domain.state import JobState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store import JobStore
from jobs_shared.worker import (
    BatchResult,
    BatchWorker,
    InvalidDataError,
    ItemContext,
    RateLimitedError,
)
from jobs_shared.worker.cancellation import Cancellations
from jobs_shared.worker.chunks import ChunkRunner
from jobs_shared.worker.drain import Drain
from jobs_shared.worker.heartbeat import Activity
from jobs_shared.worker.outcomes import OutcomePublisher
from jobs_shared.worker.retry import RetryPolicy

TYPE = JobType.DOCUMENT_INGESTION


ODD_RESULTS: dict[str, Any] = {
    "big": {"text": "x" * 20_000},
    "not JSON": {"value": object()},
    "not a dict": ["row"],
}
"""Results an item may return that do not fit in an outcome (see `run_chunk`'s "odd")."""


class Rows(BatchWorker):
    """Items say what to do: "ok", "bad" (fails alone), or one of `ODD_RESULTS` (succeeds
    with that result); `fail` makes the whole call raise."""

    job_type = TYPE

    def __init__(self, fail: list[Exception] | None = None, short: bool = False) -> None:
        self.calls: list[tuple[list[str], int]] = []
        self._fail = fail or []
        self._short = short

    async def plan(self, job: RunJob) -> AsyncIterator[WorkItem]:
        raise NotImplementedError
        yield

    async def process_batch(
        self, items: Sequence[WorkItem], context: ItemContext
    ) -> Sequence[BatchResult]:
        self.calls.append(([item.item_id for item in items], context.attempt))
        if self._fail:
            raise self._fail.pop(0)
        ends: list[BatchResult] = [
            InvalidDataError(f"{item.label}: no title")
            if item.payload["do"] == "bad"
            else ODD_RESULTS.get(item.payload["do"], {"row": item.item_id})
            for item in items
        ]
        return ends[:-1] if self._short else ends


class NeverCancelled:
    async def get_job(self, tenant: str, job_id: str) -> JobState | None:
        return None


async def run_chunk(
    worker: Rows, *actions: str, cancelled: bool = False, sent: list[ItemOutcomes] | None = None
) -> list[ItemOutcome]:
    """The outcomes of one chunk of `actions`, in sending order (the messages in `sent`)."""
    sent = [] if sent is None else sent

    async def send(message: bytes) -> None:
        sent.append(ItemOutcomes.model_validate_json(message))

    outcomes = OutcomePublisher(send, max_batch=4, linger=0.0)
    cancellations = Cancellations(cast(JobStore, NeverCancelled()))
    if cancelled:
        cancellations.add("job-1")
    runner = ChunkRunner(
        worker,
        outcomes,
        cancellations,
        Activity(),
        Drain(),
        concurrency=4,
        item_timeout=5.0,
        retry_policy=RetryPolicy(max_attempts=3, first_delay=0.01, max_delay=0.01),
    )
    chunk = WorkChunk(
        job_id="job-1",
        tenant="acme",
        job_type=TYPE,
        chunk=0,
        items=[
            WorkItem(item_id=f"row-{n}", label=f"Row {n}", payload={"do": action})
            for n, action in enumerate(actions, start=2)
        ],
    )
    await outcomes.start()
    handback = await runner.run(chunk, deliveries=0)
    await outcomes.close()
    assert handback == []
    return [outcome for message in sent for outcome in message.outcomes]


def ends(outcomes: list[ItemOutcome]) -> list[tuple[str, ItemStatus, Any]]:
    return [(o.item_id, o.status, o.error.message if o.error else o.result) for o in outcomes]


async def test_a_chunk_runs_in_one_call_and_bad_items_fail_alone() -> None:
    worker = Rows()

    outcomes = await run_chunk(worker, "ok", "bad", "ok")

    assert worker.calls == [(["row-2", "row-3", "row-4"], 1)]
    assert ends(outcomes) == [
        ("row-2", ItemStatus.SUCCEEDED, {"row": "row-2"}),
        ("row-3", ItemStatus.FAILED, "Row 3: no title"),
        ("row-4", ItemStatus.SUCCEEDED, {"row": "row-4"}),
    ]
    assert outcomes[1].error is not None
    assert outcomes[1].error.category == ErrorCategory.VALIDATION_ERROR
    assert all(o.started_at is not None and o.attempt == 1 for o in outcomes)


async def test_results_that_do_not_fit_in_an_outcome_are_dropped_and_the_items_succeed() -> None:
    outcomes = await run_chunk(Rows(), "big", "ok", "not JSON", "not a dict")

    assert ends(outcomes) == [
        ("row-2", ItemStatus.SUCCEEDED, None),
        ("row-3", ItemStatus.SUCCEEDED, {"row": "row-3"}),
        ("row-4", ItemStatus.SUCCEEDED, None),
        ("row-5", ItemStatus.SUCCEEDED, None),
    ]


async def test_a_chunk_bigger_than_a_message_goes_in_several_in_item_order() -> None:
    sent: list[ItemOutcomes] = []

    outcomes = await run_chunk(Rows(), *["ok"] * 9, sent=sent)

    assert [len(message.outcomes) for message in sent] == [4, 4, 1]
    assert [o.item_id for o in outcomes] == [f"row-{n}" for n in range(2, 11)]
    assert {o.status for o in outcomes} == {ItemStatus.SUCCEEDED}


async def test_a_transient_failure_of_the_whole_call_retries_the_batch() -> None:
    worker = Rows(fail=[RateLimitedError("slow down")])

    outcomes = await run_chunk(worker, "ok", "ok")

    assert [attempt for _, attempt in worker.calls] == [1, 2]
    assert [(o.status, o.attempt) for o in outcomes] == [(ItemStatus.SUCCEEDED, 2)] * 2


async def test_a_lasting_failure_of_the_whole_call_fails_every_item_with_it() -> None:
    worker = Rows(fail=[InvalidDataError("The upload is gone.")])

    outcomes = await run_chunk(worker, "ok", "bad")

    assert ends(outcomes) == [
        ("row-2", ItemStatus.FAILED, "The upload is gone."),
        ("row-3", ItemStatus.FAILED, "The upload is gone."),
    ]


async def test_an_answer_of_the_wrong_length_is_an_internal_error_for_all() -> None:
    outcomes = await run_chunk(Rows(short=True), "ok", "ok")

    assert {o.status for o in outcomes} == {ItemStatus.FAILED}
    assert {o.error.category for o in outcomes if o.error} == {ErrorCategory.INTERNAL_ERROR}


async def test_a_cancelled_job_skips_the_batch_without_calling_the_worker() -> None:
    worker = Rows()

    outcomes = await run_chunk(worker, "ok", "ok", cancelled=True)

    assert worker.calls == []
    assert [o.status for o in outcomes] == [ItemStatus.SKIPPED] * 2


async def test_process_alone_runs_a_batch_of_one() -> None:
    worker = Rows()
    context = ItemContext(cast(Any, None), attempt=1)

    result = await worker.process(
        WorkItem(item_id="r", label="Row 9", payload={"do": "ok"}), context
    )

    assert result == {"row": "r"}
    with pytest.raises(InvalidDataError, match="Row 9: no title"):
        await worker.process(WorkItem(item_id="r", label="Row 9", payload={"do": "bad"}), context)
