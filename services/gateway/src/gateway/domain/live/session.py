"""One WebSocket client: its requests, its subscriptions, and everything written to it.

Four tasks per socket: the reader answers requests in order (a subscribe is answered
with its snapshot before the next request is read); the writer sends replies and
coalesced updates; the resyncer re-reads every subscription when the hub asks (the
feed reconnected, so changes may have been missed); the watchdog notices a send that
does not finish. Only the writer sends, so a client that stops reading blocks nothing
but its own writer, and what waits for it is bounded: one pending state per job it
watches, a bounded number of replies. A client that falls hopelessly behind (too much
waiting, or one message not taken within `send_timeout`) is closed with 1013, "try again
later": reconnecting and subscribing again gives it the current state at once, which is
all it needs.

The writer sleeps until something is due: a reply, an update of a quiet job, or the end
of a job's coalescing interval (a timer on the event loop). A change that must wait does
not wake it, and no per-message timeout is armed: with a thousand sockets, those wakeups
and timers were most of the gateway's CPU (`bench/ws_fanout.py`).
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol

from litestar.exceptions import NotFoundException, ValidationException, WebSocketDisconnect

from gateway.domain.jobs.services import JobService
from gateway.domain.live import protocol
from gateway.domain.live.coalescer import Coalescer
from gateway.domain.live.hub import Hub
from gateway.domain.live.protocol import (
    BadRequestError,
    JobsFilter,
    Ping,
    Subscribe,
    Unsubscribe,
    parse_client_message,
)
from gateway.domain.live.subscriptions import (
    Delivery,
    JobTarget,
    ListTarget,
    Subscription,
    Target,
)
from gateway.params import job_query
from jobs_shared.contracts import JobView, utc_now
from jobs_shared.domain.metrics import job_view

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 1013
"""WebSocket close code "try again later": the client could not keep up."""
CLOSE_SECONDS = 5.0
"""How long closing a slow client may take; then the connection is simply dropped."""


@dataclass(frozen=True, slots=True)
class Limits:
    update_interval: float = 0.25
    """At most one update per job and subscription this often (4 a second)."""
    snapshot_page: int = 50
    """Jobs in a list subscription's snapshot: the first page, as `GET /jobs` gives it."""
    max_subscriptions: int = 100
    max_pending: int = 10_000
    """Coalesced updates waiting to be written (one per subscription and job)."""
    max_replies: int = 1_000
    """Snapshots, errors and pongs waiting to be written."""
    send_timeout: float = 10.0
    """How long one message may wait for the client to take it."""


class Socket(Protocol):
    """What a session needs of its WebSocket (Litestar's, or a test's stand-in)."""

    async def receive_text(self) -> str: ...

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Outgoing(Protocol):
    def render(self) -> str | None:
        """The message as it is written now (seq numbers are taken here); None to skip it."""


@dataclass(frozen=True, slots=True)
class Reply:
    text: str

    def render(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Snapshot:
    subscription: Subscription
    job: str | None = None
    jobs: tuple[str, ...] = ()
    next_cursor: str | None = None

    def render(self) -> str | None:
        subscription = self.subscription
        if not subscription.active:
            return None
        return protocol.snapshot(
            subscription.id,
            subscription.next_seq(),
            subscription.ref,
            job=self.job,
            jobs=self.jobs,
            next_cursor=self.next_cursor,
        )


class Session:
    def __init__(
        self,
        socket: Socket,
        hub: Hub,
        jobs: JobService,
        tenant: str,
        limits: Limits = Limits(),
    ) -> None:
        self._socket = socket
        self._hub = hub
        self._jobs = jobs
        self._tenant = tenant
        self._limits = limits
        self._loop = asyncio.get_running_loop()
        self._clock = self._loop.time  # the clock the loop's timers run on
        self._subscriptions: dict[str, Subscription] = {}
        self._numbered = 0
        self._replies: list[Outgoing] = []
        self._updates: Coalescer[tuple[Subscription, str], Delivery] = Coalescer(
            limits.update_interval
        )
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._sending_since: float | None = None
        self._resync_wanted = asyncio.Event()
        self._priming = asyncio.Lock()
        self._closing: str | None = None

    async def run(self) -> None:
        """Serve the client until it leaves or falls hopelessly behind."""
        tasks = [
            asyncio.create_task(self._read(), name="live-read"),
            asyncio.create_task(self._write(), name="live-write"),
            asyncio.create_task(self._resync_forever(), name="live-resync"),
            asyncio.create_task(self._watch(), name="live-watchdog"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if (failure := task.exception()) is not None:
                    log.error("A live-updates session failed", exc_info=failure)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._timer is not None:
                self._timer.cancel()
            for subscription in list(self._subscriptions.values()):
                self._drop(subscription)
        if self._closing is not None:
            await self._close_too_slow(self._closing)

    # --- what the hub calls ---------------------------------------------------------

    def deliver(self, delivery: Delivery) -> None:
        due = self._updates.offer(
            delivery.key, delivery, self._clock(), urgent=delivery.change.final
        )
        if len(self._updates) > self._limits.max_pending:
            self._give_up("too many updates waiting: the client reads too slowly")
        self._wake_at(due)

    def resync(self) -> None:
        self._resync_wanted.set()

    # --- reading requests -----------------------------------------------------------

    async def _read(self) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await self._handle(await self._socket.receive_text())

    async def _handle(self, text: str) -> None:
        try:
            message = parse_client_message(text)
        except BadRequestError as problem:
            self._reply(protocol.error("bad_request", str(problem), ref=problem.ref))
            return
        match message:
            case Subscribe():
                await self._subscribe(message)
            case Unsubscribe():
                self._unsubscribe(message)
            case Ping():
                self._reply(protocol.PONG)

    async def _subscribe(self, request: Subscribe) -> None:
        try:
            if len(self._subscriptions) >= self._limits.max_subscriptions:
                raise BadRequestError(
                    f"at most {self._limits.max_subscriptions} subscriptions per connection"
                )
            target: Target = (
                JobTarget(request.job_id)
                if request.job_id is not None
                else _list_target(request.jobs)
            )
        except BadRequestError as problem:
            self._reply(protocol.error("bad_request", str(problem), ref=request.ref))
            return
        self._numbered += 1
        subscription = Subscription(f"s{self._numbered}", self._tenant, target, request.ref, self)
        self._subscriptions[subscription.id] = subscription
        self._hub.add(subscription)
        await self._prime(subscription)

    async def _prime(self, subscription: Subscription) -> None:
        """Send `subscription` its current state, then let its changes flow."""
        async with self._priming:
            if not subscription.active:
                return
            subscription.hold()
            try:
                snapshot, jobs = await self._read_snapshot(subscription)
            except NotFoundException as missing:
                self._fail(subscription, "not_found", missing.detail)
                return
            except Exception:
                log.exception("Reading the snapshot of a live subscription failed")
                self._fail(subscription, "unavailable", "The jobs cannot be read right now.")
                return
            self._queue(snapshot)
            subscription.prime(jobs)  # its updates now queue behind the snapshot

    async def _read_snapshot(self, subscription: Subscription) -> tuple[Snapshot, list[JobView]]:
        target = subscription.target
        if isinstance(target, JobTarget):
            job = job_view(await self._jobs.get(target.job_id), utc_now())
            return Snapshot(subscription, job=job.model_dump_json()), [job]
        page = await self._jobs.list_jobs(target.query, self._limits.snapshot_page, None)
        encoded = tuple(job.model_dump_json() for job in page.jobs)
        return Snapshot(subscription, jobs=encoded, next_cursor=page.next_cursor), page.jobs

    def _unsubscribe(self, request: Unsubscribe) -> None:
        if request.subscription is not None:
            found = self._subscriptions.get(request.subscription)
            chosen = [found] if found is not None else []
        else:
            chosen = [
                s
                for s in self._subscriptions.values()
                if isinstance(s.target, JobTarget) and s.target.job_id == request.job_id
            ]
        if not chosen:
            self._reply(protocol.error("bad_request", "no such subscription on this connection"))
        for subscription in chosen:
            self._drop(subscription)
            self._reply(protocol.unsubscribed(subscription.id))

    def _fail(self, subscription: Subscription, code: str, message: str) -> None:
        self._drop(subscription)
        job_id = subscription.target.job_id if isinstance(subscription.target, JobTarget) else None
        self._reply(
            protocol.error(
                code, message, ref=subscription.ref, subscription=subscription.id, job_id=job_id
            )
        )

    def _drop(self, subscription: Subscription) -> None:
        subscription.active = False
        self._hub.remove(subscription)
        if self._subscriptions.get(subscription.id) is subscription:
            del self._subscriptions[subscription.id]

    async def _resync_forever(self) -> None:
        while True:
            await self._resync_wanted.wait()
            self._resync_wanted.clear()
            for subscription in list(self._subscriptions.values()):
                await self._prime(subscription)

    # --- writing --------------------------------------------------------------------

    def _reply(self, text: str) -> None:
        self._queue(Reply(text))

    def _queue(self, reply: Outgoing) -> None:
        self._replies.append(reply)
        if len(self._replies) > self._limits.max_replies:
            self._give_up("too many replies waiting: the client reads too slowly")
        self._wake.set()

    def _give_up(self, reason: str) -> None:
        if self._closing is None:
            self._closing = reason
            self._wake.set()

    def _wake_at(self, due: float) -> None:
        """Have the writer wake at `due` (at once if it has come), unless a timer already
        wakes it no later."""
        if due <= self._clock():
            self._wake.set()
            return
        if self._timer is not None:
            if self._timer.when() <= due:
                return
            self._timer.cancel()
        self._timer = self._loop.call_at(due, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._wake.set()

    async def _write(self) -> None:
        """Until the session gives up (then `run` closes the socket)."""
        with contextlib.suppress(WebSocketDisconnect, OSError):
            while self._closing is None:
                self._wake.clear()
                outgoing = [*self._replies, *self._updates.take(self._clock())]
                self._replies.clear()
                if not outgoing:
                    if (due := self._updates.next_due()) is not None:
                        self._wake_at(due)
                    await self._wake.wait()
                    continue
                for message in outgoing:
                    if self._closing is not None:
                        break
                    if (text := message.render()) is not None:
                        self._sending_since = self._clock()
                        await self._socket.send_text(text)
                        self._sending_since = None

    async def _watch(self) -> None:
        """Give up on a client once one message has waited `send_timeout` for it to take."""
        limit = self._limits.send_timeout
        while True:
            await asyncio.sleep(limit / 4)
            since = self._sending_since
            if since is not None and self._clock() - since > limit:
                self._give_up("the client took no message for too long")
                return

    async def _close_too_slow(self, reason: str) -> None:
        """Close with 1013 and the reason; a client that does not even take the close
        frame within `CLOSE_SECONDS` is dropped (the server closes the connection once
        the handler returns)."""
        log.info("Closing a live-updates connection: %s", reason)
        with contextlib.suppress(WebSocketDisconnect, OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await self._socket.close(code=CLOSE_TOO_SLOW, reason=reason)


def _list_target(jobs: JobsFilter | None) -> ListTarget:
    """The filter as `GET /jobs` reads it (same parsing, same refusals)."""
    given = jobs or JobsFilter()
    try:
        query = job_query(
            given.type, given.status, given.user, given.created_from, given.created_to
        )
    except ValidationException as refused:
        problems = [p for p in refused.extra or [] if isinstance(p, dict)]
        raise BadRequestError(
            "; ".join(f"jobs.{p['key']}: {p['message']}" for p in problems) or refused.detail
        ) from None
    return ListTarget(query)
