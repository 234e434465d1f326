"""Send a message its consumer cannot use to the queue's dead-letter queue, saying why.

RabbitMQ dead-letters by itself only when a message is rejected or redelivered too often
(`x-delivery-limit`), and then nobody learns *why*. A consumer that knows the message
will never work (bad JSON, a schema violation, an unknown routing key, a message that
breaks the fold) publishes it here itself: the original body and properties, to
`DEAD_LETTERS` under the queue's name (so it lands in `<queue>.dlq`), with the reason in
the `x-error` header and where it came from in `x-original-*` headers; then it acks the
original. An operator can read the reason and shovel the message back once it is fixed.
"""

from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker
from pydantic import ValidationError

from jobs_shared.topology import DEAD_LETTERS, ERROR_HEADER, ConsumerQueue

ORIGINAL_EXCHANGE_HEADER = "x-original-exchange"
ORIGINAL_ROUTING_KEY_HEADER = "x-original-routing-key"
MAX_REASON_CHARS = 4000
"""Headers travel in one AMQP frame; a reason longer than this is cut."""


def explain(error: Exception) -> str:
    """A one-line, human-readable reason: which fields are wrong and how, for pydantic errors."""
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(body)'}: {e['msg']}"
            for e in error.errors(include_url=False, include_input=False)
        )
        return f"invalid {error.title}: {problems}"
    return f"{type(error).__name__}: {error}"


async def dead_letter(
    broker: RabbitBroker,
    queue: ConsumerQueue,
    message: AbstractIncomingMessage,
    reason: str,
) -> None:
    """Publish `message` to `queue`'s dead-letter queue with `reason`; the caller then acks it.

    Awaits the broker's confirm, so acking afterwards can never lose the message.
    """
    headers = dict(message.headers or {})
    headers[ERROR_HEADER] = reason[:MAX_REASON_CHARS]
    headers[ORIGINAL_EXCHANGE_HEADER] = message.exchange or ""
    headers[ORIGINAL_ROUTING_KEY_HEADER] = message.routing_key or ""
    await broker.publish(
        message.body,
        exchange=DEAD_LETTERS,
        routing_key=queue.name,
        headers=headers,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        persist=True,
    )
