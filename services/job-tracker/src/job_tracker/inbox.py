"""The tracker's inbox: every command and event it folds arrives on one queue.

`InboxConsumer` consumes it with aio-pika itself, on the FastStream broker's connection,
rather than through a FastStream subscriber: FastStream's per-message pipeline (context,
middlewares, parsing, logging, acking) cost about 100 µs a message, a fifth of the
tracker's time when a thousand small jobs run at once (`docs/benchmarks.md`,
`tracker_throughput experiments`). What a message needs is short: the routing key says
which model the body is, `parse_tracker_message` validates the bytes once, what cannot be
decoded is dead-lettered with its reason and acked, the rest goes to the batcher, and the
message is acked once its batch is committed, or nacked and requeued if it was not (the
queue's delivery limit dead-letters a crash loop).

The channel and the consumer live on the broker's robust connection, which restores both
after a reconnect; a message whose ack was lost with the old channel is redelivered, and
the fold counts it once.

`document_inbox` declares the same queue as a FastStream subscriber, for the AsyncAPI
document only (FastStream generates it from subscribers): `job_tracker.asyncapi` adds it
to a tracker it builds and never starts.
"""

import asyncio
import logging
import uuid

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from faststream.rabbit import RabbitBroker

from job_tracker.batcher import Batcher
from job_tracker.folding import DeadLetter, Delivery
from jobs_shared.contracts import (
    CancelJob,
    ItemOutcomes,
    JobFailed,
    JobStarted,
    JobTotalGrew,
    SubmitJob,
    parse_tracker_message,
)
from jobs_shared.contracts.routing import EVENT_KEYS
from jobs_shared.dead_letters import explain
from jobs_shared.topology import TRACKER_INBOX

log = logging.getLogger(__name__)

INBOX_DESCRIPTION = (
    "Everything the tracker folds into jobs; the routing key says which message it is: "
    "`<type>.submit` SubmitJob, `<type>.cancel` CancelJob, "
    + ", ".join(f"`{key}` {model.__name__}" for model, key in EVENT_KEYS.items())
    + ". Messages that cannot be decoded go to `job-tracker.inbox.dlq` with the reason "
    "in the `x-error` header."
)

InboxMessage = SubmitJob | CancelJob | JobStarted | JobTotalGrew | JobFailed | ItemOutcomes


class InboxConsumer:
    def __init__(
        self,
        broker: RabbitBroker,
        batcher: Batcher[Delivery],
        dead_letter: DeadLetter,
        prefetch: int,
    ) -> None:
        self._broker = broker
        self._batcher = batcher
        self._dead_letter = dead_letter
        self._prefetch = prefetch
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def consuming(self) -> bool:
        return self._consumer_tag is not None

    def readiness_problem(self) -> str | None:
        """For `/readyz`: not ready until the inbox is consumed (a hot standby's consumer
        is attached too, waiting for the queue to make it the active one)."""
        return None if self.consuming else "inbox: not consumed"

    async def start(self) -> None:
        """Consume the inbox (declared by `declare_topology`) on the broker's connection."""
        connection = await self._broker.connect()
        self._channel = await connection.channel()
        await self._channel.set_qos(prefetch_count=self._prefetch)
        self._queue = await self._channel.get_queue(TRACKER_INBOX.name)
        self._consumer_tag = await self._queue.consume(self.on_message)

    async def stop(self) -> None:
        """Take no more messages, wait for those in flight (the batcher releases them by
        committing their batch), and close the channel. If the caller's timeout cancels
        the wait, the channel still closes, and the broker requeues what was not acked."""
        if self._queue is not None and self._consumer_tag is not None:
            await self._queue.cancel(self._consumer_tag)
            self._consumer_tag = None
        try:
            await self._idle.wait()
        finally:
            if self._in_flight:
                log.warning("%d inbox messages still in flight at shutdown", self._in_flight)
            if self._channel is not None:
                await self._channel.close()
                self._channel = None

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._handle(message)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        try:
            decoded = parse_tracker_message(
                message.routing_key or "", message.body, message.message_id or uuid.uuid4().hex
            )
        except ValueError as error:
            reason = explain(error)
            log.warning("dead-lettering an undecodable %r message: %s", message.routing_key, reason)
            try:
                await self._dead_letter(message, reason)
            except Exception:  # not confirmed: keep the message, it comes back
                log.exception("could not dead-letter message %s; requeueing it", message.message_id)
                await _settle(message, ack=False)
                return
            await _settle(message, ack=True)
            return
        try:
            await self._batcher.submit(Delivery(decoded, message))
        except Exception:  # the batch was not committed (logged by the folder)
            await _settle(message, ack=False)
            return
        await _settle(message, ack=True)


_CHANNEL_GONE = (
    aio_pika.exceptions.ChannelInvalidStateError,
    aio_pika.exceptions.AMQPChannelError,
    aio_pika.exceptions.AMQPConnectionError,
)


async def _settle(message: AbstractIncomingMessage, *, ack: bool) -> None:
    """Ack, or nack and requeue, `message`; if its channel is gone, the broker has
    requeued it already, and it will be redelivered."""
    try:
        if ack:
            await message.ack()
        else:
            await message.nack(requeue=True)
    except _CHANNEL_GONE:
        log.info("the channel of message %s closed before it was settled", message.message_id)


def document_inbox(broker: RabbitBroker) -> None:
    """Declare the inbox as a FastStream subscriber on `broker`, which must never be started
    (it would consume the inbox beside `InboxConsumer`): for the AsyncAPI document only."""

    @broker.subscriber(
        TRACKER_INBOX.queue(), title=TRACKER_INBOX.name, description=INBOX_DESCRIPTION
    )
    async def fold_inbox(message: InboxMessage) -> None:
        raise RuntimeError("the inbox is consumed by InboxConsumer, not by this subscriber")
