"""Publishing a command to `jobs.commands`, confirmed by the broker or answered with a 503.

A confirm means RabbitMQ has the message in every bound queue (the tracker's inbox, and
for a cancel every worker replica's cancel queue), so once this returns the command
cannot be lost; if it raises, nothing was sent and the client may simply try again.
"""

import logging

from faststream.rabbit import RabbitBroker
from litestar.exceptions import ServiceUnavailableException

from jobs_shared.contracts import CancelJob, SubmitJob
from jobs_shared.topology import COMMANDS

logger = logging.getLogger(__name__)


async def publish_command(
    broker: RabbitBroker, command: SubmitJob | CancelJob, routing_key: str
) -> None:
    try:
        await broker.publish(command, exchange=COMMANDS, routing_key=routing_key, persist=True)
    except Exception as exc:
        logger.warning("%s of job %s not confirmed: %r", routing_key, command.job_id, exc)
        raise ServiceUnavailableException(
            "The request could not be queued right now; please try again in a moment."
        ) from exc
