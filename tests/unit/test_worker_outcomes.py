"""Outcome batching: a start and its end coalesce while unsent; batches by size or age; confirms."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from pydantic import ValidationError

from jobs_shared.contracts import ItemError, ItemOutcome, ItemOutcomes, ItemStatus, JobType
from jobs_shared.contracts.events import (
    ReportedItemStatus,
    SucceededOutcomes,
    item_outcomes_json,
    outcome_json,
)
from jobs_shared.contracts.writing import message_json
from jobs_shared.errors import ErrorCategory
from jobs_shared.worker import JobRef
from jobs_shared.worker.outcomes import OutcomeBatch, OutcomeBuffer, OutcomePublisher

T0 = datetime(2030, 1, 1, tzinfo=UTC)
JOB = JobRef("job-1", "acme", JobType.ENRICHMENT, "ops@acme.test")
OTHER = JobRef("job-2", "acme", JobType.ENRICHMENT, "ops@acme.test")


def outcome(
    item: str, status: ReportedItemStatus, seconds: int = 0, started_at: datetime | None = None
) -> ItemOutcome:
    return ItemOutcome(
        item_id=item,
        status=status,
        at=T0 + timedelta(seconds=seconds),
        started_at=started_at,
    )


def decoded(batch: OutcomeBatch[str]) -> list[ItemOutcome]:
    """The outcomes of `batch`'s message, as the tracker reads them."""
    return ItemOutcomes.model_validate_json(batch.message()).outcomes


def test_an_end_replaces_its_unsent_start_and_keeps_the_start_time() -> None:
    buffer: OutcomeBuffer[str] = OutcomeBuffer()
    buffer.add(JOB, outcome("a", ItemStatus.IN_PROGRESS), now=0.0)
    buffer.add(JOB, outcome("b", ItemStatus.IN_PROGRESS), now=0.0)
    buffer.add(JOB, outcome("a", ItemStatus.SUCCEEDED, seconds=2), now=0.1, waiter="a-done")
    [batch] = buffer.take(10)
    assert [(o.item_id, o.status) for o in decoded(batch)] == [
        ("a", ItemStatus.SUCCEEDED),
        ("b", ItemStatus.IN_PROGRESS),
    ]
    assert decoded(batch)[0].started_at == T0
    assert batch.waiters == ["a-done"]
    assert len(buffer) == 0


def test_an_end_whose_start_was_sent_goes_on_its_own() -> None:
    buffer: OutcomeBuffer[str] = OutcomeBuffer()
    buffer.add(JOB, outcome("a", ItemStatus.IN_PROGRESS), now=0.0)
    assert [o.status for b in buffer.take(10) for o in decoded(b)] == [ItemStatus.IN_PROGRESS]
    buffer.add(JOB, outcome("a", ItemStatus.SUCCEEDED, 2, started_at=T0), now=1.0, waiter="w")
    [batch] = buffer.take(10)
    assert [o.status for o in decoded(batch)] == [ItemStatus.SUCCEEDED]
    assert batch.waiters == ["w"]


def test_the_oldest_outcomes_are_taken_first_one_batch_per_job() -> None:
    buffer: OutcomeBuffer[str] = OutcomeBuffer()
    for n, job in enumerate([JOB, OTHER, JOB, OTHER, JOB]):
        buffer.add(job, outcome(f"i{n}", ItemStatus.SKIPPED), now=float(n), waiter=f"w{n}")
    assert buffer.oldest_added_at == 0.0
    batches = buffer.take(4)
    assert [(b.job.job_id, [o.item_id for o in decoded(b)], b.waiters) for b in batches] == [
        ("job-1", ["i0", "i2"], ["w0", "w2"]),
        ("job-2", ["i1", "i3"], ["w1", "w3"]),
    ]
    message = ItemOutcomes.model_validate_json(batches[0].message())
    assert (message.job_id, message.tenant, message.job_type) == ("job-1", "acme", JOB.job_type)
    assert [o.item_id for o in message.outcomes] == ["i0", "i2"]
    assert len(buffer) == 1
    assert buffer.oldest_added_at == 4.0


def test_outcomes_added_together_are_taken_whole_as_many_as_fit() -> None:
    buffer: OutcomeBuffer[str] = OutcomeBuffer()
    written = [outcome_json(outcome(f"w{n}", ItemStatus.SKIPPED)) for n in range(3)]
    buffer.add_written(JOB, written, now=0.0, waiter="batch")
    buffer.add(JOB, outcome("single", ItemStatus.SKIPPED), now=1.0, waiter="one")
    assert len(buffer) == 4

    [first] = buffer.take(3)
    assert ([o.item_id for o in decoded(first)], first.waiters) == (["w0", "w1", "w2"], ["batch"])
    [second] = buffer.take(3)
    assert ([o.item_id for o in decoded(second)], second.waiters) == (["single"], ["one"])
    assert len(buffer) == 0


def test_outcomes_added_together_beyond_the_limit_are_still_taken_alone() -> None:
    buffer: OutcomeBuffer[str] = OutcomeBuffer()
    buffer.add(JOB, outcome("single", ItemStatus.SKIPPED), now=0.0)
    buffer.add_written(JOB, [outcome_json(outcome("w", ItemStatus.SKIPPED))] * 5, 1.0, "w")
    assert [len(decoded(b)) for b in buffer.take(2)] == [1]
    assert [len(decoded(b)) for b in buffer.take(2)] == [5]


class Sent:
    def __init__(self, fail: bool = False) -> None:
        self.messages: list[ItemOutcomes] = []
        self.fail = fail

    async def __call__(self, message: bytes) -> None:
        if self.fail:
            raise ConnectionError("broker gone")
        self.messages.append(ItemOutcomes.model_validate_json(message))


async def started_publisher(sent: Sent, max_batch: int, linger: float) -> OutcomePublisher:
    publisher = OutcomePublisher(sent, max_batch=max_batch, linger=linger)
    await publisher.start()
    return publisher


async def test_a_full_batch_goes_without_waiting_for_the_linger() -> None:
    sent = Sent()
    publisher = await started_publisher(sent, max_batch=3, linger=60)
    confirms = [publisher.ended(JOB, outcome(f"i{n}", ItemStatus.SKIPPED)) for n in range(3)]
    async with asyncio.timeout(2):
        await asyncio.gather(*confirms)
    assert [len(m.outcomes) for m in sent.messages] == [3]
    await publisher.close()


async def test_a_lone_outcome_goes_after_the_linger_coalesced_with_its_start() -> None:
    sent = Sent()
    publisher = await started_publisher(sent, max_batch=100, linger=0.05)
    loop = asyncio.get_running_loop()
    began = loop.time()
    publisher.started(JOB, outcome("a", ItemStatus.IN_PROGRESS))
    confirmed = publisher.ended(JOB, outcome("a", ItemStatus.SUCCEEDED, 1))
    async with asyncio.timeout(2):
        await confirmed
    assert loop.time() - began >= 0.05
    [message] = sent.messages
    assert [(o.status, o.started_at) for o in message.outcomes] == [(ItemStatus.SUCCEEDED, T0)]
    await publisher.close()


async def test_a_failed_publish_fails_the_confirmations() -> None:
    publisher = await started_publisher(Sent(fail=True), max_batch=1, linger=0)
    confirmed = publisher.ended(JOB, outcome("a", ItemStatus.SKIPPED))
    with pytest.raises(ConnectionError):
        async with asyncio.timeout(2):
            await confirmed
    await publisher.close()


async def test_close_sends_what_is_buffered_at_once() -> None:
    sent = Sent()
    publisher = await started_publisher(sent, max_batch=100, linger=60)
    publisher.started(JOB, outcome("a", ItemStatus.IN_PROGRESS))
    async with asyncio.timeout(2):
        await publisher.close()
    assert [o.item_id for m in sent.messages for o in m.outcomes] == ["a"]


class Gated(Sent):
    """Sends the first message at once, and each later one only once `gate` is set; fails
    the message numbered `fail_at` (from 1), if given."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.first_sent = asyncio.Event()
        self.fail_at = fail_at
        self.calls = 0

    async def __call__(self, message: bytes) -> None:
        self.calls += 1
        if self.calls > 1:
            await self.gate.wait()
        if self.calls == self.fail_at:
            raise ConnectionError("broker gone")
        self.messages.append(ItemOutcomes.model_validate_json(message))
        self.first_sent.set()


async def test_a_batch_of_outcomes_is_confirmed_only_once_every_message_is() -> None:
    sent = Gated()
    publisher = await started_publisher(sent, max_batch=2, linger=0)
    confirmed = publisher.ended_all(JOB, [outcome(f"i{n}", ItemStatus.SKIPPED) for n in range(5)])
    async with asyncio.timeout(2):
        await sent.first_sent.wait()
    await asyncio.sleep(0.01)
    assert not confirmed.done()  # two of five sent; three wait behind the gate
    sent.gate.set()
    async with asyncio.timeout(2):
        await confirmed
    assert [[o.item_id for o in m.outcomes] for m in sent.messages] == [
        ["i0", "i1"],
        ["i2", "i3"],
        ["i4"],
    ]
    await publisher.close()


async def test_one_lost_message_fails_the_whole_batch_of_outcomes() -> None:
    sent = Gated(fail_at=2)
    sent.gate.set()
    publisher = await started_publisher(sent, max_batch=2, linger=0)
    confirmed = publisher.ended_all(JOB, [outcome(f"i{n}", ItemStatus.SKIPPED) for n in range(5)])
    with pytest.raises(ConnectionError):
        async with asyncio.timeout(2):
            await confirmed
    await publisher.close()


async def test_a_batch_smaller_than_a_message_goes_after_the_linger() -> None:
    sent = Sent()
    publisher = await started_publisher(sent, max_batch=100, linger=0.05)
    await asyncio.sleep(0.01)  # the sender is asleep on an empty buffer
    confirmed = publisher.ended_all(JOB, [outcome(f"i{n}", ItemStatus.SKIPPED) for n in range(3)])
    async with asyncio.timeout(2):
        await confirmed
    assert [len(m.outcomes) for m in sent.messages] == [3]
    await publisher.close()


async def test_no_outcomes_are_confirmed_at_once() -> None:
    publisher = await started_publisher(Sent(), max_batch=10, linger=60)
    assert publisher.ended_all(JOB, []).done()
    assert publisher.ended_written(JOB, []).done()
    await publisher.close()


def test_the_outcomes_json_a_worker_writes_is_the_message_pydantic_writes() -> None:
    outcomes = [
        ItemOutcome(
            item_id="row-0000002",
            label="Row 2",
            status=ItemStatus.SUCCEEDED,
            attempt=2,
            at=T0 + timedelta(seconds=1),
            started_at=T0,
            result={"product_id": "prd_1", "price": Decimal("12.50")},
        ),
        ItemOutcome(
            item_id="row-0000003",
            label="Row 3",
            status=ItemStatus.FAILED,
            at=T0,
            error=ItemError(category=ErrorCategory.VALIDATION_ERROR, message="Row 3: no title"),
        ),
        outcome("row-0000004", ItemStatus.SKIPPED),
    ]
    written = ItemOutcomes.model_validate_json(
        item_outcomes_json(
            JOB.job_id, JOB.tenant, JOB.job_type, [outcome_json(o) for o in outcomes]
        )
    )
    by_pydantic = ItemOutcomes.model_validate_json(
        ItemOutcomes(
            job_id=JOB.job_id, tenant=JOB.tenant, job_type=JOB.job_type, outcomes=outcomes
        ).model_dump_json()
    )
    assert written.model_dump(exclude={"at"}) == by_pydantic.model_dump(exclude={"at"})
    assert written.outcomes[0].result == {"product_id": "prd_1", "price": "12.50"}


def test_a_succeeded_outcome_written_from_its_batch_is_the_one_pydantic_writes() -> None:
    result = {"product_id": "prd_1", "price": Decimal("12.50")}
    succeeded = SucceededOutcomes(attempt=3, at=T0 + timedelta(seconds=1), started_at=T0)
    label = 'Sheet "Prices \\ €", row 2'  # quotes, a backslash and a non-ASCII character
    written = succeeded.outcome_json("Prices!row-0000002", label, message_json(result))
    expected = ItemOutcome(
        item_id="Prices!row-0000002",
        label=label,
        status=ItemStatus.SUCCEEDED,
        attempt=3,
        at=T0 + timedelta(seconds=1),
        started_at=T0,
        result=result,
    )
    [read] = ItemOutcomes.model_validate_json(
        item_outcomes_json(JOB.job_id, JOB.tenant, JOB.job_type, [written])
    ).outcomes
    [by_pydantic] = ItemOutcomes.model_validate_json(
        ItemOutcomes(
            job_id=JOB.job_id, tenant=JOB.tenant, job_type=JOB.job_type, outcomes=[expected]
        ).model_dump_json()
    ).outcomes
    assert read == by_pydantic
    assert read.result == {"product_id": "prd_1", "price": "12.50"}
    with pytest.raises(ValueError, match="count from 1"):
        SucceededOutcomes(attempt=0, at=T0, started_at=T0)
    without = succeeded.outcome_json("row-1", "Row 1", b"null")
    assert (
        ItemOutcomes.model_validate_json(
            item_outcomes_json(JOB.job_id, JOB.tenant, JOB.job_type, [without])
        )
        .outcomes[0]
        .result
        is None
    )


def test_a_result_key_that_is_not_text_is_written_as_text() -> None:
    careless = {7: ["a"]}  # what a worker could return despite its type
    sent = ItemOutcome(
        item_id="a", status=ItemStatus.SUCCEEDED, at=T0, result=cast(dict[str, Any], careless)
    )
    written = ItemOutcomes.model_validate_json(
        item_outcomes_json(JOB.job_id, JOB.tenant, JOB.job_type, [outcome_json(sent)])
    )
    assert written.outcomes[0].result == {"7": ["a"]}


def test_a_failed_outcome_without_an_error_is_refused_when_built_and_when_received() -> None:
    with pytest.raises(ValueError, match="needs an error"):
        ItemOutcome(item_id="a", status=ItemStatus.FAILED, at=T0)
    sent = item_outcomes_json(
        JOB.job_id, JOB.tenant, JOB.job_type, [outcome_json(outcome("a", ItemStatus.SKIPPED))]
    )
    with pytest.raises(ValidationError, match="needs an error"):
        ItemOutcomes.model_validate_json(sent.replace(b'"skipped"', b'"failed"'))
