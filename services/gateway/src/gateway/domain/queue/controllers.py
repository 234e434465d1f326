"""`/queue`: what is waiting and running, per job type."""

from http import HTTPStatus

from litestar import Controller, get

from gateway.dependencies import Broker, Caller, Store
from gateway.domain.queue.schemas import QueueSnapshot
from gateway.domain.queue.services import queue_snapshot
from gateway.errors import documented_errors


class QueueController(Controller):
    path = "/queue"
    tags = ("queue",)

    @get(
        "/",
        summary="Pending and in-progress jobs and broker queue depth per type",
        responses=documented_errors(HTTPStatus.UNAUTHORIZED),
    )
    async def get_queue(self, store: Store, broker: Broker, principal: Caller) -> QueueSnapshot:
        return await queue_snapshot(store, broker, principal.tenant)
