"""Wiring: one broker, one store, the inbox consumer, the batcher, health routes.

Lifecycle (FastStream's hooks, in order): open the store, start the batcher, connect and
declare the topology; the broker starts (its publishers); then the inbox is consumed. On
shutdown (SIGTERM through uvicorn) the inbox stops taking messages and waits for those in
flight, which the batcher releases by committing their batch; then the broker stops, and
the batcher and the store close.
"""

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

from faststream.asgi import AsgiFastStream
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI

from job_tracker.announcer import Announcer
from job_tracker.batcher import Batcher
from job_tracker.folding import Delivery, InboxFolder
from job_tracker.inbox import InboxConsumer
from job_tracker.settings import TrackerSettings
from jobs_shared.dead_letters import dead_letter
from jobs_shared.health import health_routes
from jobs_shared.store import JobStore, open_store
from jobs_shared.topology import TRACKER_INBOX, declare_topology

SERVICE_NAME = "job-tracker"
log = logging.getLogger(SERVICE_NAME)
"""FastStream's own records (startup, shutdown) go through the service's log format."""
GRACEFUL_TIMEOUT_SECONDS = 30.0
"""How long shutdown waits for in-flight batches (a failing one backs off up to 10 s)."""


@dataclass(frozen=True, slots=True)
class Tracker:
    app: AsgiFastStream
    broker: RabbitBroker
    store: JobStore
    batcher: Batcher[Delivery]
    inbox: InboxConsumer


def build_tracker(settings: TrackerSettings) -> Tracker:
    broker = RabbitBroker(
        settings.amqp_url,
        app_id=SERVICE_NAME,
        logger=log,
        graceful_timeout=GRACEFUL_TIMEOUT_SECONDS,
        log_level=logging.DEBUG,  # FastStream's per-message logs: too many at INFO
        apply_types=False,  # the handler takes the delivery as it is: no injection per message
        description="The job tracker: folds job commands and worker events into job documents.",
    )
    store = open_store(settings.store_url)
    send_to_dlq = partial(dead_letter, broker, TRACKER_INBOX)
    folder = InboxFolder(store, Announcer(broker, SERVICE_NAME).announce, send_to_dlq)
    batcher: Batcher[Delivery] = Batcher(
        folder.commit,
        max_size=settings.tracker_batch_size,
        linger=settings.tracker_batch_linger_ms / 1000,
    )
    inbox = InboxConsumer(broker, batcher, send_to_dlq, prefetch=settings.prefetch)

    async def stop_consuming() -> None:
        async with asyncio.timeout(GRACEFUL_TIMEOUT_SECONDS):
            await inbox.stop()

    async def declare() -> None:
        await declare_topology(settings.amqp_url)
        await broker.connect()

    app = AsgiFastStream(
        broker,
        logger=log,
        asgi_routes=health_routes(broker, store, inbox.readiness_problem),
        on_startup=[store.open, batcher.start, declare],
        after_startup=[inbox.start],
        on_shutdown=[stop_consuming],
        after_shutdown=[batcher.close, store.close],
        specification=AsyncAPI(
            broker,
            title="MerchantOps Jobs: job-tracker",
            version="1.0.0",
            description="Messages the job tracker consumes and publishes.",
        ),
    )
    return Tracker(app=app, broker=broker, store=store, batcher=batcher, inbox=inbox)
