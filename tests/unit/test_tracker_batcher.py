"""The tracker's batcher: size and linger flushes, one batch at a time, errors per batch."""

import asyncio
from collections.abc import Sequence

import pytest

from job_tracker.batcher import Batcher, BatcherClosedError


class Recorder:
    def __init__(self, fail_on: int | None = None, delay: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on
        self.delay = delay
        self.running = 0
        self.overlapped = False

    async def commit(self, batch: Sequence[int]) -> None:
        self.running += 1
        self.overlapped |= self.running > 1
        try:
            await asyncio.sleep(self.delay)
            self.batches.append(list(batch))
            if self.fail_on in batch:
                raise RuntimeError(f"batch with {self.fail_on} failed")
        finally:
            self.running -= 1


async def started(recorder: Recorder, max_size: int, linger: float) -> Batcher[int]:
    batcher = Batcher(recorder.commit, max_size=max_size, linger=linger)
    await batcher.start()
    return batcher


async def test_a_full_batch_commits_without_waiting_for_the_linger() -> None:
    recorder = Recorder()
    batcher = await started(recorder, max_size=3, linger=60)
    async with asyncio.timeout(2):
        await asyncio.gather(*(batcher.submit(n) for n in range(3)))
    assert recorder.batches == [[0, 1, 2]]
    await batcher.close()


async def test_a_lone_message_commits_after_the_linger() -> None:
    recorder = Recorder()
    batcher = await started(recorder, max_size=100, linger=0.05)
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with asyncio.timeout(2):
        await batcher.submit(7)
    assert loop.time() - began >= 0.05
    assert recorder.batches == [[7]]
    await batcher.close()


async def test_batches_commit_one_at_a_time_in_arrival_order() -> None:
    recorder = Recorder(delay=0.01)
    batcher = await started(recorder, max_size=2, linger=0.01)
    async with asyncio.timeout(2):
        await asyncio.gather(*(batcher.submit(n) for n in range(5)))
    assert recorder.batches == [[0, 1], [2, 3], [4]]
    assert not recorder.overlapped
    await batcher.close()


async def test_a_failed_commit_fails_its_own_batch_only() -> None:
    recorder = Recorder(fail_on=1)
    batcher = await started(recorder, max_size=2, linger=0.01)
    async with asyncio.timeout(2):
        results = await asyncio.gather(
            *(batcher.submit(n) for n in range(4)), return_exceptions=True
        )
    assert [type(r).__name__ for r in results] == [
        "RuntimeError",
        "RuntimeError",
        "NoneType",
        "NoneType",
    ]
    await batcher.close()


async def test_close_commits_what_is_pending_and_refuses_more() -> None:
    recorder = Recorder()
    batcher = await started(recorder, max_size=100, linger=60)
    waiting = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0)
    async with asyncio.timeout(2):
        await batcher.close()
        await waiting
    assert recorder.batches == [[1]]
    with pytest.raises(BatcherClosedError):
        await batcher.submit(2)
