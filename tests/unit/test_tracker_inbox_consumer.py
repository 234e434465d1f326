"""How the inbox consumer settles each delivery: acked once its batch is committed, nacked
and requeued if the batch failed, dead-lettered with its reason if it cannot be decoded.

The broker itself is covered by tests/integration/test_tracker_*.py; here the deliveries
are stand-ins, so each outcome can be forced."""

import asyncio
from collections.abc import Sequence
from unittest.mock import AsyncMock, MagicMock

import aio_pika
import pytest

from job_tracker.batcher import Batcher
from job_tracker.folding import Delivery
from job_tracker.inbox import InboxConsumer
from jobs_shared.contracts import JobStarted
from tests.support.tracker import started


def delivery(routing_key: str, body: bytes) -> MagicMock:
    message = MagicMock(routing_key=routing_key, body=body, message_id="m-1")
    message.ack = AsyncMock()
    message.nack = AsyncMock()
    return message


class Folder:
    def __init__(self, *, fails: bool = False) -> None:
        self.fails = fails
        self.committed: list[list[Delivery]] = []

    async def commit(self, batch: Sequence[Delivery]) -> None:
        if self.fails:
            raise RuntimeError("the store is down")
        self.committed.append(list(batch))


async def consumer_over(folder: Folder) -> tuple[InboxConsumer, AsyncMock, Batcher[Delivery]]:
    batcher: Batcher[Delivery] = Batcher(folder.commit, max_size=10, linger=0.01)
    await batcher.start()
    dead_letter = AsyncMock()
    return InboxConsumer(MagicMock(), batcher, dead_letter, prefetch=10), dead_letter, batcher


async def test_a_message_is_acked_after_its_batch_is_committed() -> None:
    folder = Folder()
    consumer, dead_letter, batcher = await consumer_over(folder)
    message = delivery("job.started", started("j-1", 5).model_dump_json().encode())

    async with asyncio.timeout(2):
        await consumer.on_message(message)

    [[committed]] = folder.committed
    assert isinstance(committed.message, JobStarted)
    assert committed.raw is message
    message.ack.assert_awaited_once()
    message.nack.assert_not_awaited()
    dead_letter.assert_not_awaited()
    await batcher.close()


async def test_a_message_whose_batch_failed_is_requeued_not_acked() -> None:
    consumer, dead_letter, batcher = await consumer_over(Folder(fails=True))
    message = delivery("job.started", started("j-1", 5).model_dump_json().encode())

    async with asyncio.timeout(2):
        await consumer.on_message(message)

    message.nack.assert_awaited_once_with(requeue=True)
    message.ack.assert_not_awaited()
    dead_letter.assert_not_awaited()
    await batcher.close()


@pytest.mark.parametrize(
    ("routing_key", "body", "reason_part"),
    [
        ("job.started", b"{not json", "invalid JobStarted"),
        ("job.started", b'{"job_id": "j-1"}', "tenant: Field required"),
        ("job.exploded", b"{}", "unknown routing key 'job.exploded'"),
    ],
)
async def test_an_undecodable_message_is_dead_lettered_with_its_reason_then_acked(
    routing_key: str, body: bytes, reason_part: str
) -> None:
    folder = Folder()
    consumer, dead_letter, batcher = await consumer_over(folder)
    message = delivery(routing_key, body)

    async with asyncio.timeout(2):
        await consumer.on_message(message)

    dead_letter.assert_awaited_once()
    [(dead_message, reason)] = [awaited.args for awaited in dead_letter.await_args_list]
    assert dead_message is message
    assert reason_part in reason
    message.ack.assert_awaited_once()
    assert folder.committed == []
    await batcher.close()


async def test_stopping_waits_for_the_messages_in_flight() -> None:
    folder = Folder()
    consumer, _, batcher = await consumer_over(folder)
    message = delivery("job.started", started("j-1", 5).model_dump_json().encode())

    handling = asyncio.create_task(consumer.on_message(message))
    await asyncio.sleep(0)  # the message is in the batcher, its batch lingering
    async with asyncio.timeout(2):
        await consumer.stop()

    assert handling.done()
    message.ack.assert_awaited_once()
    await batcher.close()


async def test_the_tracker_is_not_ready_until_its_inbox_is_consumed() -> None:
    consumer, _, batcher = await consumer_over(Folder())

    assert consumer.readiness_problem() == "inbox: not consumed"
    await batcher.close()


async def test_a_message_whose_channel_closed_meanwhile_is_left_for_redelivery() -> None:
    """Its ack cannot reach the broker, which has requeued it with the channel: no error
    escapes to the consumer, and the redelivery folds to the same state."""
    consumer, _, batcher = await consumer_over(Folder())
    message = delivery("job.started", started("j-1", 5).model_dump_json().encode())
    message.ack.side_effect = aio_pika.exceptions.ChannelInvalidStateError("closed")

    async with asyncio.timeout(2):
        await consumer.on_message(message)

    message.ack.assert_awaited_once()
    await batcher.close()


async def test_an_undecodable_message_that_cannot_be_dead_lettered_is_requeued() -> None:
    folder = Folder()
    consumer, dead_letter, batcher = await consumer_over(folder)
    dead_letter.side_effect = aio_pika.exceptions.AMQPConnectionError("the broker went away")
    message = delivery("job.started", b"{not json")

    async with asyncio.timeout(2):
        await consumer.on_message(message)

    message.nack.assert_awaited_once_with(requeue=True)
    message.ack.assert_not_awaited()
    await batcher.close()
