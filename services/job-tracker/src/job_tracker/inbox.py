"""The tracker's one subscriber: every command and event it folds arrives on its inbox.

The handler gets the delivery undecoded (FastStream's JSON decoding and validation are
skipped) because the routing key, not the body, says which model a message is; it decodes it
with `parse_tracker_message`, dead-letters what cannot be decoded (then FastStream acks
it), and hands the rest to the batcher, returning once the batch is committed (then
FastStream acks it) or raising `NackMessage` if it was not (FastStream nacks and
requeues it, and the queue's delivery limit dead-letters a crash loop).
"""

import logging
import uuid
from typing import Annotated, Any

from aio_pika.abc import AbstractIncomingMessage
from faststream import AckPolicy
from faststream.exceptions import NackMessage
from faststream.rabbit import Channel, RabbitBroker, RabbitMessage
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

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


class DocumentedAs:
    """Annotates a parameter: checked with `isinstance` only, documented as another type.

    The inbox handler receives the AMQP delivery, but the AsyncAPI document (generated
    from the parameter's JSON schema) must show what its body holds.
    """

    def __init__(self, documented: Any) -> None:
        self._adapter: TypeAdapter[Any] = TypeAdapter(documented)

    def __get_pydantic_core_schema__(
        self, source: type[Any], _handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.is_instance_schema(source)

    def __get_pydantic_json_schema__(
        self, _schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(self._adapter.core_schema)


InboxDelivery = Annotated[
    AbstractIncomingMessage,
    DocumentedAs(SubmitJob | CancelJob | JobStarted | JobTotalGrew | JobFailed | ItemOutcomes),
]
"""The handler's one parameter: the AMQP delivery itself, documented as what its body holds."""

INBOX_DESCRIPTION = (
    "Everything the tracker folds into jobs; the routing key says which message it is: "
    "`<type>.submit` SubmitJob, `<type>.cancel` CancelJob, "
    + ", ".join(f"`{key}` {model.__name__}" for model, key in EVENT_KEYS.items())
    + ". Messages that cannot be decoded go to `job-tracker.inbox.dlq` with the reason "
    "in the `x-error` header."
)


async def _delivery(message: RabbitMessage) -> AbstractIncomingMessage:
    """The decoder: hand over the delivery undecoded. Its routing key says which model the
    body is, and `parse_tracker_message` validates the bytes once. (Taking the message from
    FastStream's context instead would cost a thread hop per message.)"""
    return message.raw_message


def subscribe_inbox(
    broker: RabbitBroker,
    batcher: Batcher[Delivery],
    dead_letter: DeadLetter,
    prefetch: int,
) -> None:
    @broker.subscriber(
        TRACKER_INBOX.queue(),
        channel=Channel(prefetch_count=prefetch),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_delivery,
        title=TRACKER_INBOX.name,
        description=INBOX_DESCRIPTION,
    )
    async def fold_inbox(raw: InboxDelivery) -> None:
        try:
            decoded = parse_tracker_message(
                raw.routing_key or "", raw.body, raw.message_id or uuid.uuid4().hex
            )
        except ValueError as error:
            reason = explain(error)
            log.warning("dead-lettering an undecodable %r message: %s", raw.routing_key, reason)
            await dead_letter(raw, reason)
            return
        try:
            await batcher.submit(Delivery(decoded, raw))
        except Exception as error:
            raise NackMessage() from error
