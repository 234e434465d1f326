"""The RabbitMQ topology: every exchange, queue and binding, in one place.

```
jobs.commands (topic)  <type>.submit  <type>.cancel  <type>.run -> <worker>.runs
                       <type>.cancel -> one exclusive queue per worker replica
jobs.work     (topic)  <type>.items -> <worker>.items  (WorkChunk, many items each)
jobs.events   (topic)  job.started  job.total_grew  job.failed  items.outcomes
                       worker.heartbeat (no queue bound yet)
jobs.updates  (fanout) JobsUpdated: the jobs each tracker batch wrote
                       -> gateway.updates.<process>: one exclusive queue per gateway process
jobs.dead-letters (direct)  routing key = the consumer queue's name -> <queue>.dlq
```

Consumer queues are durable quorum queues. Each has a dead-letter queue: messages
that cannot be decoded are sent there by the consumer with the reason in the
`x-error` header; messages redelivered more than `DELIVERY_LIMIT` times (a crash
loop) are dead-lettered by RabbitMQ itself.

A worker plans a job from `<worker>.runs` and publishes its items in chunks to
`<worker>.items`, a plain competing-consumers queue: every replica of the worker takes
chunks from it, so one large job is spread over all replicas.

Every gateway process declares its own exclusive, auto-delete queue on `jobs.updates`
(`gateway_updates_queue`): a fanout copies each `JobsUpdated` to every process, so each
can push it to the WebSocket clients it holds, and a queue dies with its process.

The tracker's inbox is single-active-consumer: every write to a job comes from one
process at a time, so a second tracker replica is a hot standby, never a second
writer (no lost updates, no double counts).
"""

from dataclasses import dataclass

from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.schemas.queue import QuorumQueueArgs

from jobs_shared.contracts import JobType
from jobs_shared.contracts.routing import EVENT_KEYS, cancel_key, run_key, submit_key
from jobs_shared.contracts.work import items_key

COMMANDS = RabbitExchange("jobs.commands", type=ExchangeType.TOPIC, durable=True)
WORK = RabbitExchange("jobs.work", type=ExchangeType.TOPIC, durable=True)
EVENTS = RabbitExchange("jobs.events", type=ExchangeType.TOPIC, durable=True)
UPDATES = RabbitExchange("jobs.updates", type=ExchangeType.FANOUT, durable=True)
DEAD_LETTERS = RabbitExchange("jobs.dead-letters", type=ExchangeType.DIRECT, durable=True)

DELIVERY_LIMIT = 10
ERROR_HEADER = "x-error"


@dataclass(frozen=True, slots=True)
class Binding:
    exchange: RabbitExchange
    routing_key: str


@dataclass(frozen=True, slots=True)
class ConsumerQueue:
    """A durable quorum queue a service consumes, with its bindings and dead-letter queue."""

    name: str
    bindings: tuple[Binding, ...]
    single_active_consumer: bool = False

    @property
    def dead_letter_name(self) -> str:
        return f"{self.name}.dlq"

    def queue(self) -> RabbitQueue:
        arguments: QuorumQueueArgs = {
            "x-dead-letter-exchange": DEAD_LETTERS.name,
            "x-dead-letter-routing-key": self.name,
            "x-delivery-limit": DELIVERY_LIMIT,
        }
        if self.single_active_consumer:
            arguments["x-single-active-consumer"] = True
        return RabbitQueue(
            self.name, queue_type=QueueType.QUORUM, durable=True, arguments=arguments
        )

    def dead_letter_queue(self) -> RabbitQueue:
        return RabbitQueue(
            self.dead_letter_name,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=self.name,
        )


TRACKER_INBOX = ConsumerQueue(
    name="job-tracker.inbox",
    bindings=(
        *(Binding(COMMANDS, submit_key(t)) for t in JobType),
        *(Binding(COMMANDS, cancel_key(t)) for t in JobType),
        *(Binding(EVENTS, key) for key in EVENT_KEYS.values()),
    ),
    single_active_consumer=True,
)

WORKER_SERVICES: dict[JobType, str] = {
    JobType.DOCUMENT_INGESTION: "ingestion",
    JobType.ENRICHMENT: "enrichment",
    JobType.CRAWL: "crawler",
    JobType.EXPORT: "exporter",
}
"""The worker service that runs each job type."""

RUN_QUEUES: dict[JobType, ConsumerQueue] = {
    job_type: ConsumerQueue(
        name=f"{service}.runs", bindings=(Binding(COMMANDS, run_key(job_type)),)
    )
    for job_type, service in WORKER_SERVICES.items()
}
"""Where each worker takes its `RunJob` commands. Declared with the rest of the topology,
so a job submitted before its worker first starts waits in the queue instead of being
dropped by an exchange with no binding. Their depth is the queue depth per type."""

ITEM_QUEUES: dict[JobType, ConsumerQueue] = {
    job_type: ConsumerQueue(name=f"{service}.items", bindings=(Binding(WORK, items_key(job_type)),))
    for job_type, service in WORKER_SERVICES.items()
}
"""Where each worker's replicas take the chunks of items its planner published."""

CONSUMER_QUEUES: tuple[ConsumerQueue, ...] = (
    TRACKER_INBOX,
    *RUN_QUEUES.values(),
    *ITEM_QUEUES.values(),
)


def gateway_updates_queue(process_id: str) -> RabbitQueue:
    """The queue through which one gateway process hears every `JobsUpdated`.

    Exclusive and auto-delete: it lives exactly as long as the process's connection, so a
    gateway that stops or crashes leaves nothing behind to fill up, and a reconnecting one
    declares it afresh (its clients are then resynced from the store). Not durable and not
    a quorum queue: an update is worth something only to the sockets open right now.
    """
    return RabbitQueue(
        f"gateway.updates.{process_id}", durable=False, exclusive=True, auto_delete=True
    )


async def declare_topology(amqp_url: str) -> None:
    """Declare every exchange, consumer queue, binding and dead-letter queue. Idempotent.

    It uses a connection of its own, never a service's broker: FastStream caches a queue
    with the channel it was declared on, and a subscriber of that broker would then consume
    on that channel, without its own prefetch limit (one replica would hoard every message).
    """
    async with RabbitBroker(amqp_url, logger=None) as broker:
        await _declare(broker)


async def _declare(broker: RabbitBroker) -> None:
    for exchange in (COMMANDS, WORK, EVENTS, UPDATES, DEAD_LETTERS):
        await broker.declare_exchange(exchange)
    dead_letters = await broker.declare_exchange(DEAD_LETTERS)
    for consumer in CONSUMER_QUEUES:
        queue = await broker.declare_queue(consumer.queue())
        for binding in consumer.bindings:
            source = await broker.declare_exchange(binding.exchange)
            await queue.bind(source, routing_key=binding.routing_key)
        dlq = await broker.declare_queue(consumer.dead_letter_queue())
        await dlq.bind(dead_letters, routing_key=consumer.name)
