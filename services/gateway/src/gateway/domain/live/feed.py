"""This process's ear on `jobs.updates`: every job the tracker announces, to the hub.

Each gateway process declares a queue of its own, exclusive and auto-delete
(`jobs_shared.topology.gateway_updates_queue`), bound to the `jobs.updates` fanout, so
every process hears every change and pushes it to the sockets it holds: clients of any
replica see every job, and no replica needs to know of the others.

Messages are consumed without acks: an update is only worth something to the sockets
open right now, and the queue goes away with the connection anyway. The queue, its
binding and the consumer live on the broker's robust connection, which restores them
after a reconnect; changes announced while the connection was down are lost, so every
session then re-reads its subscriptions from the store (`Hub.resync`). The same happens
once the queue is first consumed, for clients that subscribed before it existed.
"""

import logging
import os
import secrets
import socket

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from pydantic import ValidationError

from gateway.domain.live.hub import Hub
from gateway.domain.live.subscriptions import Change
from jobs_shared.contracts import JobsUpdated
from jobs_shared.topology import UPDATES, gateway_updates_queue

log = logging.getLogger(__name__)


def process_id() -> str:
    """Names this process's queue for operators (host and pid); the random part keeps two
    processes apart even when a container's host name and pid repeat."""
    return f"{socket.gethostname()}.{os.getpid()}.{secrets.token_hex(3)}"


class UpdatesFeed:
    def __init__(self, hub: Hub, name: str | None = None) -> None:
        self._hub = hub
        self.name = name or process_id()
        self.consuming = False

    async def start(self, broker: RabbitBroker) -> None:
        """Declare and consume this process's queue over `broker` (connected by the caller)."""
        connection = await broker.connect()  # the open connection, not a new one
        queue = await broker.declare_queue(gateway_updates_queue(self.name))
        await queue.bind(await broker.declare_exchange(UPDATES))
        await queue.consume(self._on_message, no_ack=True)
        connection.reconnect_callbacks.add(self._on_reconnected)
        self.consuming = True
        log.info("Live updates: consuming %s", queue.name)
        self._hub.resync()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            updated = JobsUpdated.model_validate_json(message.body)
        except ValidationError as problem:
            log.warning("Dropped an undecodable JobsUpdated: %s", problem)
            return
        for job in updated.jobs:
            self._hub.publish(Change.of(job))

    def _on_reconnected(self, _connection: AbstractRobustConnection | None, /) -> None:
        log.warning("Live updates: the broker connection came back; resyncing every client")
        self._hub.resync()
