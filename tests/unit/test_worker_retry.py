"""Retries: the backoff schedule, and which failures get another attempt and when they stop."""

import asyncio
import random
from typing import Any

import pytest

from jobs_shared.errors import ErrorCategory
from jobs_shared.worker import InvalidDataError, RateLimitedError
from jobs_shared.worker.retry import Attempted, RetryPolicy, attempt

POLICY = RetryPolicy(max_attempts=4, first_delay=1.0, max_delay=5.0, max_total_delay=60.0)


def test_each_delay_is_half_fixed_half_jitter_doubling_up_to_the_cap() -> None:
    rng = random.Random(7)
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        delays = [POLICY.delay(retry, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not fixed


class Flaky:
    """Fails with the given errors in turn, then returns a result."""

    def __init__(self, *errors: Exception, hang: bool = False) -> None:
        self.errors = list(errors)
        self.hang = hang
        self.numbers: list[int] = []

    async def __call__(self, number: int) -> dict[str, Any] | None:
        self.numbers.append(number)
        if self.hang:
            await asyncio.sleep(60)
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": number}


async def run(
    call: Flaky,
    policy: RetryPolicy = POLICY,
    *,
    give_up: bool = False,
    time_limit: float = 5.0,
) -> tuple[Attempted, list[float]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with asyncio.timeout(5):
        attempted = await attempt(
            call,
            policy=policy,
            time_limit=time_limit,
            give_up=lambda: give_up,
            rng=random.Random(1),
            sleep=sleep,
        )
    return attempted, sleeps


async def test_a_transient_failure_is_retried_until_it_succeeds() -> None:
    call = Flaky(RateLimitedError("slow down"), TimeoutError())
    attempted, sleeps = await run(call)
    assert attempted == Attempted(attempts=3, result={"ok": 3})
    assert call.numbers == [1, 2, 3]
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 2.0


async def test_a_permanent_failure_is_not_retried() -> None:
    attempted, sleeps = await run(Flaky(InvalidDataError("no sku")))
    assert attempted.attempts == 1
    assert sleeps == []
    assert attempted.failure is not None
    assert attempted.failure.category == ErrorCategory.VALIDATION_ERROR


async def test_retries_stop_at_the_attempt_cap() -> None:
    attempted, sleeps = await run(Flaky(*[TimeoutError()] * 10))
    assert attempted.attempts == POLICY.max_attempts
    assert len(sleeps) == POLICY.max_attempts - 1
    assert attempted.failure is not None
    assert attempted.failure.category == ErrorCategory.TIMEOUT


async def test_retries_stop_before_the_total_wait_exceeds_its_budget() -> None:
    policy = RetryPolicy(max_attempts=10, first_delay=1.0, max_delay=5.0, max_total_delay=4.0)
    attempted, sleeps = await run(Flaky(*[TimeoutError()] * 10), policy)
    assert sum(sleeps) <= 4.0
    assert attempted.attempts == len(sleeps) + 1 < 10


async def test_a_retry_after_is_a_floor_for_the_wait() -> None:
    _, sleeps = await run(Flaky(RateLimitedError("slow down", retry_after=3.5)))
    assert sleeps == [3.5]


async def test_a_retry_after_beyond_the_budget_ends_the_item_at_once() -> None:
    attempted, sleeps = await run(Flaky(RateLimitedError("slow down", retry_after=600)))
    assert sleeps == []
    assert attempted.attempts == 1
    assert attempted.failure is not None
    assert attempted.failure.category == ErrorCategory.RATE_LIMITED


async def test_no_new_attempt_starts_once_the_job_is_cancelled() -> None:
    call = Flaky(TimeoutError(), TimeoutError())
    attempted, _ = await run(call, give_up=True)
    assert call.numbers == [1]
    assert attempted.failure is not None
    assert attempted.failure.category == ErrorCategory.TIMEOUT


async def test_an_attempt_past_its_time_limit_fails_as_a_timeout() -> None:
    call = Flaky(hang=True)
    attempted, _ = await run(call, RetryPolicy(max_attempts=2, first_delay=0), time_limit=0.01)
    assert call.numbers == [1, 2]
    assert attempted.failure is not None
    assert attempted.failure.category == ErrorCategory.TIMEOUT
    assert attempted.failure.message == "Processing the item took longer than 0.01 s."


async def test_cancellation_passes_through() -> None:
    task = asyncio.create_task(run(Flaky(hang=True)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
