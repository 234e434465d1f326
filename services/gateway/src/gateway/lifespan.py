"""Open what the app was not handed: the store, the catalog, the blob store for uploads (and
its retention sweep), and a broker connection for submits, /queue and /readyz.

The broker connects in the background and keeps retrying (aio-pika's robust
connection), so the gateway serves reads from the store while RabbitMQ is down or
still starting; /readyz says 503 and /queue shows no depth until it is back. Once
connected it declares the topology (idempotent), like every service that publishes:
a queue must exist before the first message for it is sent, whichever service
starts first. Then it starts the live-updates feed: this process's queue on
`jobs.updates`, feeding the hub that the WebSocket sessions subscribe to.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import timedelta

from faststream.rabbit import RabbitBroker
from litestar import Litestar

from gateway.domain.documents.retention import sweep_forever
from gateway.domain.live.feed import UpdatesFeed
from jobs_shared.blobs import open_blob_store
from jobs_shared.settings import Settings
from jobs_shared.store import open_catalog, open_store
from jobs_shared.topology import declare_topology

logger = logging.getLogger(__name__)


def lifespan(settings: Settings) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def run(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if app.state.get("store") is None:
                store = open_store(settings.store_url)
                await store.open()
                stack.push_async_callback(store.close)
                app.state.store = store
            if app.state.get("blobs") is None:
                blobs = open_blob_store(settings)
                await blobs.open()
                stack.push_async_callback(blobs.close)
                app.state.blobs = blobs
                if settings.blob_retention_days:
                    retention = timedelta(days=settings.blob_retention_days)
                    sweeping = asyncio.create_task(sweep_forever(blobs, retention))
                    stack.push_async_callback(_cancel, sweeping)
            if app.state.get("catalog") is None:
                catalog = open_catalog(settings.store_url)
                await catalog.open()
                stack.push_async_callback(catalog.close)
                app.state.catalog = catalog
            if app.state.get("broker") is None:
                broker = RabbitBroker(settings.amqp_url, fail_fast=False)
                stack.push_async_callback(broker.stop)
                feed = app.state.feed = UpdatesFeed(app.state.hub)
                connecting = asyncio.create_task(_connect(broker, settings.amqp_url, feed))
                stack.push_async_callback(_cancel, connecting)
                app.state.broker = broker
            yield

    return run


async def _connect(broker: RabbitBroker, amqp_url: str, feed: UpdatesFeed) -> None:
    """Connect, declare the topology and start the live feed; aio-pika retries an
    unreachable broker by itself, so what fails here is a bad URL or a topology that
    clashes with the broker's."""
    try:
        await broker.connect()
        await declare_topology(amqp_url)
        await feed.start(broker)
    except Exception:
        logger.exception("RabbitMQ is unusable: /queue shows no depth, /readyz says 503")


async def _cancel(task: "asyncio.Task[None]") -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
