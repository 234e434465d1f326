"""Committing a batch: one load and one save, poison isolation, and infrastructure failures."""

from collections.abc import Sequence
from datetime import datetime
from unittest.mock import AsyncMock, MagicMock, patch

import pytest
from aio_pika.abc import AbstractIncomingMessage

from job_tracker import folding
from job_tracker.folding import Delivery, InboxFolder, StoreUnavailableError
from jobs_shared.contracts import JobType, TrackerMessage
from jobs_shared.contracts.commands import SubmitJob
from jobs_shared.contracts.events import JobSubmitted
from jobs_shared.domain.fold import FoldResult, fold_batch
from jobs_shared.domain.state import ItemKey, ItemState, JobState
from jobs_shared.store import JobStore
from tests.support.tracker import T0


def delivery(job_id: str) -> Delivery:
    command = SubmitJob(job_id=job_id, tenant="acme", user_email="a@b", submitted_at=T0)
    submitted = JobSubmitted(job_id=job_id, job_type=JobType.EXPORT, command=command)
    raw: AbstractIncomingMessage = MagicMock(message_id=job_id, routing_key="export.submit")
    return Delivery(submitted, raw)


def fold_rejecting(job_id: str) -> object:
    def fold(
        messages: Sequence[TrackerMessage],
        jobs: dict[str, JobState],
        items: dict[ItemKey, ItemState],
        now: datetime,
    ) -> FoldResult:
        if any(m.job_id == job_id for m in messages):
            raise ValueError(f"{job_id} is poison")
        return fold_batch(messages, jobs, items, now)

    return fold


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folding, "FIRST_BACKOFF_SECONDS", 0.0)


async def test_a_batch_is_saved_once_and_announced_once(sqlite_store: JobStore) -> None:
    announce, dead_letter = AsyncMock(), AsyncMock()
    folder = InboxFolder(sqlite_store, announce, dead_letter)
    with patch.object(sqlite_store, "save_fold", wraps=sqlite_store.save_fold) as save_fold:
        await folder.commit([delivery("a"), delivery("b"), delivery("a")])

    assert save_fold.call_count == 1
    [(result, _now)] = [call.args for call in announce.call_args_list]
    assert set(result.jobs) == {"a", "b"}
    assert result.dispatch == ["a", "b"]
    assert set(await sqlite_store.load_jobs(["a", "b"])) == {"a", "b"}
    dead_letter.assert_not_called()


async def test_a_poison_message_is_dead_lettered_and_the_rest_committed(
    sqlite_store: JobStore,
) -> None:
    dead_letter = AsyncMock()
    folder = InboxFolder(sqlite_store, AsyncMock(), dead_letter)
    batch = [delivery("a"), delivery("poison"), delivery("c")]
    with patch("job_tracker.folding.fold_batch", side_effect=fold_rejecting("poison")):
        await folder.commit(batch)

    dead_letter.assert_awaited_once_with(batch[1].raw, "cannot fold: ValueError: poison is poison")
    assert set(await sqlite_store.load_jobs(["a", "poison", "c"])) == {"a", "c"}


async def test_when_the_store_is_down_nothing_is_dead_lettered_and_the_batch_fails(
    sqlite_store: JobStore,
) -> None:
    dead_letter = AsyncMock()
    folder = InboxFolder(sqlite_store, AsyncMock(), dead_letter)
    down = OSError("disk unplugged")
    with (
        patch.object(sqlite_store, "save_fold", side_effect=down),
        patch.object(sqlite_store, "ping", side_effect=down),
        pytest.raises(StoreUnavailableError),
    ):
        await folder.commit([delivery("a"), delivery("b")])

    dead_letter.assert_not_called()
