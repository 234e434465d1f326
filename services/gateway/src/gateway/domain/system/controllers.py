"""`/healthz` (the process answers) and `/readyz` (it can serve: store and broker reachable)."""

import logging
from http import HTTPStatus

from litestar import Controller, get
from litestar.exceptions import ServiceUnavailableException
from pydantic import BaseModel

from gateway.dependencies import Broker, Store
from gateway.errors import documented_errors

BROKER_PING_SECONDS = 1.0

logger = logging.getLogger(__name__)


class Health(BaseModel):
    status: str


class SystemController(Controller):
    tags = ("system",)

    @get("/healthz", summary="Liveness")
    async def healthz(self) -> Health:
        return Health(status="ok")

    @get(
        "/readyz",
        summary="Readiness: the store answers and the broker is connected",
        responses=documented_errors(HTTPStatus.SERVICE_UNAVAILABLE),
    )
    async def readyz(self, store: Store, broker: Broker) -> Health:
        failing: list[str] = []
        try:
            await store.ping()
        except Exception as exc:
            logger.warning("Store not ready: %r", exc)
            failing.append("store")
        if not await broker.ping(timeout=BROKER_PING_SECONDS):
            failing.append("broker")
        if failing:
            raise ServiceUnavailableException(f"Not ready: {' and '.join(failing)} unreachable.")
        return Health(status="ready")
