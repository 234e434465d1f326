"""Liveness: every few seconds, a busy replica says which jobs it is working on.

A job whose items stay `pending` while no replica's heartbeat names it has stalled (a
chunk lost to a crash loop, every replica gone): that is what a stall detector or an
operator looks for. Idle replicas stay quiet. One small message per replica per
interval, whatever the item rate: liveness is not re-reported per item.
"""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

from jobs_shared.contracts import WorkerHeartbeat

log = logging.getLogger(__name__)


class Activity:
    """What this replica is busy with right now, per job."""

    def __init__(self) -> None:
        self._items: Counter[str] = Counter()
        self._planning: Counter[str] = Counter()

    @contextlib.contextmanager
    def item(self, job_id: str, count: int = 1) -> Iterator[None]:
        """`count` items of `job_id` in flight (a batch worker runs a chunk's items at once)."""
        with _counted(self._items, job_id, count):
            yield

    @contextlib.contextmanager
    def planning(self, job_id: str) -> Iterator[None]:
        with _counted(self._planning, job_id):
            yield

    def snapshot(self) -> dict[str, int]:
        """Job id → items in flight (0 for a job being planned with none in flight yet)."""
        return dict.fromkeys(self._planning, 0) | dict(self._items)


@contextlib.contextmanager
def _counted(counter: Counter[str], key: str, count: int = 1) -> Iterator[None]:
    counter[key] += count
    try:
        yield
    finally:
        counter[key] -= count
        if counter[key] <= 0:
            del counter[key]


class Heartbeat:
    def __init__(
        self,
        send: Callable[[WorkerHeartbeat], Awaitable[None]],
        describe: Callable[[dict[str, int]], WorkerHeartbeat],
        activity: Activity,
        interval: float,
    ) -> None:
        self._send = send
        self._describe = describe
        self._activity = activity
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            jobs = self._activity.snapshot()
            if not jobs:
                continue
            try:
                await self._send(self._describe(jobs))
            except Exception as error:  # a missed beat is not worth stopping for
                log.warning("could not send a heartbeat: %r", error)
