"""Running one item: a time limit per attempt, and retries of transient failures.

The backoff is exponential with "equal jitter": half of each delay is fixed and half
random, so replicas that hit the same rate limit together spread out, yet never retry
at once (a delay near zero would hit the limit again). A `Retry-After` the other side
sent is honoured as a floor. Retries stop at `max_attempts`, or when the next wait
would take the item's total waiting past `max_total_delay` (a merchant would rather
see a `rate_limited` item than a job stuck for minutes), or when `give_up()` says the
job was cancelled meanwhile (no new attempt starts after a cancel).
"""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jobs_shared.errors import ErrorCategory
from jobs_shared.worker.errors import Failure, classify


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 3
    first_delay: float = 1.0
    max_delay: float = 15.0
    max_total_delay: float = 30.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number `retry` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.first_delay * 2.0 ** (retry - 1))
        return ceiling / 2 + rng.uniform(0.0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class Attempted:
    """How an item ended: its result or its failure, after how many attempts."""

    attempts: int
    result: dict[str, Any] | None = None
    failure: Failure | None = None


Sleep = Callable[[float], Awaitable[None]]


async def attempt(
    call: Callable[[int], Awaitable[dict[str, Any] | None]],
    *,
    policy: RetryPolicy,
    time_limit: float,
    give_up: Callable[[], bool],
    rng: random.Random,
    sleep: Sleep = asyncio.sleep,
) -> Attempted:
    """Call `call(attempt_number)` until it succeeds or fails for good; never raises `Exception`.

    Each attempt gets `time_limit` seconds. Cancellation (`CancelledError`) passes through:
    the runtime cancels an item only to hand it to another replica.
    """
    waited = 0.0
    tries = 0
    while True:
        tries += 1
        limit = asyncio.timeout(time_limit)
        try:
            async with limit:
                result = await call(tries)
        except Exception as error:
            failure = _took_too_long(time_limit) if limit.expired() else classify(error)
        else:
            return Attempted(attempts=tries, result=result)
        if not failure.transient or tries >= policy.max_attempts:
            return Attempted(attempts=tries, failure=failure)
        wait = max(policy.delay(tries, rng), failure.retry_after or 0.0)
        if waited + wait > policy.max_total_delay:
            return Attempted(attempts=tries, failure=failure)
        await sleep(wait)
        waited += wait
        if give_up():
            return Attempted(attempts=tries, failure=failure)


def _took_too_long(time_limit: float) -> Failure:
    return Failure(
        ErrorCategory.TIMEOUT, f"Processing the item took longer than {time_limit:g} s.", True
    )
