"""The worker's AMQP edges: what it publishes (all confirmed), and reading raw deliveries.

Publishing goes through FastStream publishers, one per message kind, so a worker's
AsyncAPI document can list them. The broker's publishing channel raises when a
mandatory message cannot be routed, so a chunk can never vanish into an exchange with
no queue bound (the runtime declares the topology first, this is the safety net).
"""

from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker, RabbitMessage
from faststream.rabbit.publisher import RabbitPublisher

from jobs_shared.contracts import ItemOutcomes, JobType, WorkChunk, WorkerHeartbeat
from jobs_shared.contracts.events import JobEvent
from jobs_shared.contracts.routing import EVENT_KEYS
from jobs_shared.contracts.work import HEARTBEAT_KEY, items_key
from jobs_shared.topology import EVENTS, WORK

DELIVERY_COUNT_HEADER = "x-delivery-count"
"""Set by quorum queues on a redelivered message: how often it was delivered before."""


class WorkerBus:
    def __init__(self, broker: RabbitBroker, job_type: JobType) -> None:
        self._events: dict[type, RabbitPublisher] = {
            model: broker.publisher(
                exchange=EVENTS,
                routing_key=key,
                schema=model,
                persist=True,
                title=f"jobs.events:{key}",
                description=model.__doc__,
            )
            for model, key in EVENT_KEYS.items()
        }
        self._chunks = broker.publisher(
            exchange=WORK,
            routing_key=items_key(job_type),
            schema=WorkChunk,
            persist=True,
            title=f"jobs.work:{items_key(job_type)}",
            description=WorkChunk.__doc__,
        )
        self._heartbeats = broker.publisher(
            exchange=EVENTS,
            routing_key=HEARTBEAT_KEY,
            schema=WorkerHeartbeat,
            mandatory=False,  # nobody consumes heartbeats yet
            title=f"jobs.events:{HEARTBEAT_KEY}",
            description=WorkerHeartbeat.__doc__,
        )

    async def event(self, event: JobEvent) -> None:
        await self._events[type(event)].publish(event)

    async def outcomes(self, message: bytes) -> None:
        """An `ItemOutcomes` message already written as JSON (`item_outcomes_json`)."""
        await self._events[ItemOutcomes].publish(message, content_type="application/json")

    async def chunk(self, body: bytes) -> None:
        """A `WorkChunk` already written as JSON (the planner copies batches in as they are)."""
        await self._chunks.publish(body, content_type="application/json")

    async def heartbeat(self, heartbeat: WorkerHeartbeat) -> None:
        await self._heartbeats.publish(heartbeat)


async def raw_body(message: RabbitMessage) -> bytes:
    """A decoder that leaves the body alone: the handler validates it, and dead-letters it."""
    return message.body


def earlier_deliveries(message: AbstractIncomingMessage) -> int:
    count = (message.headers or {}).get(DELIVERY_COUNT_HEADER, 0)
    return count if isinstance(count, int) and count > 0 else 0
