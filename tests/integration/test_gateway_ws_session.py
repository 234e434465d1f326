"""A live session against slow clients, with a stand-in socket that can stop taking messages.

Real sockets make "a client that stops reading" slow and flaky to stage (kernel buffers
hold megabytes), so these tests drive `Session` directly over a real SQLite store and a
real hub: one stuck client must not hold up another, and one that falls hopelessly
behind is closed with 1013 instead of being buffered for without end.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from litestar.exceptions import WebSocketDisconnect

from gateway.domain.jobs.services import JobService
from gateway.domain.live.hub import Hub
from gateway.domain.live.session import CLOSE_TOO_SLOW, Limits, Session
from gateway.domain.live.subscriptions import Change
from jobs_shared.contracts import JobStatus
from jobs_shared.domain.metrics import job_view
from jobs_shared.store import JobStore
from tests.support.gateway import FOLDED_AT, seed_scenario
from tests.support.tracker import wait_until


class StandInSocket:
    """Takes messages while `taking` is set; a client request is put in `requests`."""

    def __init__(self, taking: bool = True) -> None:
        self.requests: asyncio.Queue[str | None] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str | None] | None = None
        self.taking = asyncio.Event()
        if taking:
            self.taking.set()

    async def receive_text(self) -> str:
        request = await self.requests.get()
        if request is None:
            raise WebSocketDisconnect(detail="gone")
        return request

    async def send_text(self, data: str) -> None:
        await self.taking.wait()
        self.sent.append(json.loads(data))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)
        self.requests.put_nowait(None)

    def ask(self, **request: Any) -> None:
        self.requests.put_nowait(json.dumps(request))


@asynccontextmanager
async def session(
    store: JobStore, hub: Hub, socket: StandInSocket, limits: Limits
) -> AsyncIterator[asyncio.Task[None]]:
    running = asyncio.create_task(
        Session(socket, hub, JobService(store, "acme"), "acme", limits).run()
    )
    try:
        yield running
    finally:
        socket.requests.put_nowait(None)
        await asyncio.wait_for(running, timeout=10)


async def changes(store: JobStore, job_id: str, count: int) -> list[Change]:
    """`count` successive states of a stored job, each a second newer than the last."""
    stored = await store.get_job("acme", job_id)
    assert stored is not None
    return [
        Change.of(
            job_view(
                replace(
                    stored,
                    processed_items=stored.processed_items + n,
                    updated_at=FOLDED_AT.replace(year=2031, second=n),
                ),
                FOLDED_AT,
            )
        )
        for n in range(1, count + 1)
    ]


async def test_a_client_that_takes_nothing_is_closed_and_holds_up_no_one(
    sqlite_store: JobStore,
) -> None:
    await seed_scenario(sqlite_store)
    hub = Hub()
    limits = Limits(send_timeout=0.3)
    prompt, stuck = StandInSocket(), StandInSocket(taking=False)
    async with (
        session(sqlite_store, hub, prompt, limits),
        session(sqlite_store, hub, stuck, limits),
    ):
        for socket in (prompt, stuck):
            socket.ask(op="subscribe", job_id="job-e")
        await wait_until(lambda: len(hub) == 2, "both subscribed")
        await wait_until(lambda: len(prompt.sent) == 1, "the prompt client has its snapshot")
        for change in await changes(sqlite_store, "job-e", 3):
            hub.publish(change)
            await asyncio.sleep(0.3)
        await wait_until(lambda: stuck.closed is not None, "the stuck client is closed", 5)

        assert [m["seq"] for m in prompt.sent] == [0, 1, 2, 3]  # never held up
        assert prompt.closed is None
        assert stuck.sent == []
        assert stuck.closed == (CLOSE_TOO_SLOW, "the client took no message for too long")
        await wait_until(lambda: len(hub) == 1, "the stuck client's subscription is gone")


async def test_a_client_far_behind_is_closed_rather_than_buffered_for(
    sqlite_store: JobStore,
) -> None:
    await seed_scenario(sqlite_store)
    hub = Hub()
    slow = StandInSocket(taking=False)
    async with session(sqlite_store, hub, slow, Limits(max_pending=2, send_timeout=30)):
        slow.ask(op="subscribe", jobs={})
        await wait_until(lambda: len(hub) == 1, "subscribed")
        await asyncio.sleep(0.1)  # its snapshot is being written, and stuck
        for job_id in ("job-a", "job-b", "job-e"):  # three jobs pending: one too many
            hub.publish((await changes(sqlite_store, job_id, 1))[0])
        slow.taking.set()  # it takes one message after all, and then hears why it goes
        await wait_until(lambda: slow.closed is not None, "the slow client is closed", 5)

    assert [m["op"] for m in slow.sent] == ["snapshot"]
    assert slow.closed == (CLOSE_TOO_SLOW, "too many updates waiting: the client reads too slowly")


async def test_a_final_state_overtakes_the_coalescing_wait(sqlite_store: JobStore) -> None:
    await seed_scenario(sqlite_store)
    hub = Hub()
    socket = StandInSocket()
    async with session(sqlite_store, hub, socket, Limits(update_interval=5.0)):
        socket.ask(op="subscribe", job_id="job-e")
        await wait_until(lambda: len(socket.sent) == 1, "the snapshot")
        running, later = await changes(sqlite_store, "job-e", 2)
        hub.publish(running)  # quiet job: out at once
        await wait_until(lambda: len(socket.sent) == 2, "the first update", 2)
        hub.publish(later)  # within the interval: waits five seconds...
        final = Change.of(later.job.model_copy(update={"status": JobStatus.COMPLETED}))
        hub.publish(final)  # ...unless it is the end of the job
        await wait_until(lambda: len(socket.sent) == 3, "the final state", 2)

    assert [m["job"]["status"] for m in socket.sent] == ["in_progress"] * 2 + ["completed"]
