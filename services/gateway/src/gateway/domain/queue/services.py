"""Active-job counts from the store (tenant-scoped) and queue depths from RabbitMQ.

Depth is read with a passive declare, which creates nothing: a queue the workers have
not declared yet, or a broker that is down, gives a null depth rather than an error,
so the page still shows the tenant's own counts. The declares go over a channel of
their own, because RabbitMQ closes the channel a passive declare of a missing queue
was sent on, and that must not be the one the gateway publishes on.
"""

import asyncio
import contextlib
import logging

from faststream.rabbit import Channel, QueueType, RabbitBroker, RabbitQueue

from gateway.domain.queue.schemas import QueueLine, QueueSnapshot
from jobs_shared.contracts import JobStatus, JobType
from jobs_shared.store import JobStore
from jobs_shared.topology import RUN_QUEUES

DEPTH_TIMEOUT_SECONDS = 2.0
_PROBE_CHANNEL = Channel(publisher_confirms=False)

logger = logging.getLogger(__name__)


async def queue_snapshot(store: JobStore, broker: RabbitBroker, tenant: str) -> QueueSnapshot:
    active = await store.count_active(tenant)
    depths = await _depths(broker)
    counts = {(entry.type, entry.status): entry.count for entry in active}
    return QueueSnapshot(
        types=[
            QueueLine(
                type=job_type,
                pending=counts.get((job_type, JobStatus.PENDING), 0),
                in_progress=counts.get((job_type, JobStatus.IN_PROGRESS), 0),
                queue_depth=depths[job_type],
            )
            for job_type in JobType
        ]
    )


async def _depths(broker: RabbitBroker) -> dict[JobType, int | None]:
    """Every worker queue's depth, within one time budget so a stalled broker cannot hold
    the page up. One after the other: a failed passive declare closes the channel it was
    sent on, under any declare sharing it."""
    depths: dict[JobType, int | None] = dict.fromkeys(JobType)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DEPTH_TIMEOUT_SECONDS):
            for job_type in JobType:
                depths[job_type] = await _queue_depth(broker, job_type)
    return depths


async def _queue_depth(broker: RabbitBroker, job_type: JobType) -> int | None:
    """Messages ready in the worker queue of `job_type`, or None if the broker cannot tell."""
    name = RUN_QUEUES[job_type].name
    try:
        # FastStream caches the declared queue object; re-declaring it refreshes the count.
        queue = await broker.config.declarer.declare_queue(
            RabbitQueue(name, queue_type=QueueType.QUORUM, durable=True, declare=False),
            channel=_PROBE_CHANNEL,
        )
        declared = await queue.declare()
    except Exception as exc:
        logger.info("No depth for queue %s: %r", name, exc)
        return None
    return int(declared.message_count)
